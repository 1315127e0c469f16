module Milter
  # The SMTP client's address as stoppers see it (third argument of connect
  # stoppers).
  module SocketAddress
    module Predicates
      def ipv4?
        false
      end

      def ipv6?
        false
      end

      def unix?
        false
      end

      def unknown?
        false
      end
    end

    class IPv4
      include Predicates

      attr_reader :address, :port

      def initialize(address, port)
        @address = address.to_s
        @port = Integer(port)
      end

      def ipv4?
        true
      end

      # 127/8, 10/8, 172.16/12 and 192.168/16.
      def local?
        first, second = @address.split(".", 3)
        case first
        when "127", "10"
          true
        when "172"
          (16..31).cover?(second.to_i)
        when "192"
          second == "168"
        else
          false
        end
      end

      def to_ip_address
        @ip_address ||= IPAddr.new(@address)
      end

      def to_s
        "inet:#{@port}@[#{@address}]"
      end

      def ==(other)
        other.is_a?(self.class) and
          other.address == @address and
          other.port == @port
      end
      alias_method :eql?, :==

      def hash
        [self.class, @address, @port].hash
      end

      def inspect
        "#<#{self.class} #{self}>"
      end
    end

    class IPv6 < IPv4
      def ipv4?
        false
      end

      def ipv6?
        true
      end

      # ::1 and fe80::/10.
      def local?
        ip_address = to_ip_address
        ip_address.loopback? or ip_address.link_local?
      rescue IPAddr::Error
        false
      end

      def to_s
        "inet6:#{@port}@[#{@address}]"
      end
    end

    class Unix
      include Predicates

      attr_reader :path

      def initialize(path)
        @path = path.to_s
      end

      def unix?
        true
      end

      def local?
        true
      end

      def to_ip_address
        nil
      end

      def to_s
        "unix:#{@path}"
      end

      def ==(other)
        other.is_a?(self.class) and other.path == @path
      end
      alias_method :eql?, :==

      def hash
        [self.class, @path].hash
      end

      def inspect
        "#<#{self.class} #{self}>"
      end
    end

    class Unknown
      include Predicates

      def unknown?
        true
      end

      def local?
        false
      end

      def to_ip_address
        nil
      end

      def to_s
        "unknown"
      end

      def ==(other)
        other.is_a?(self.class)
      end
      alias_method :eql?, :==

      def hash
        self.class.hash
      end

      def inspect
        "#<#{self.class}>"
      end
    end

    class << self
      # From a Java milter.manager.condition.ClientAddress.
      def from_client_address(client_address)
        return Unknown.new if client_address.nil?
        case client_address.family.name
        when "INET"
          IPv4.new(client_address.address, client_address.port)
        when "INET6"
          IPv6.new(client_address.address, client_address.port)
        when "UNIX"
          Unix.new(client_address.address)
        else
          Unknown.new
        end
      end
    end
  end
end
