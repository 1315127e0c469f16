module Milter
  module Manager
    # Local/remote classification for the "Remote Network" condition.
    # Custom remote networks win over everything; then an address is local
    # when socket_address.local? or inside a custom local network. Unknown
    # addresses are neither local nor remote. Networks are matched in Java
    # (milter.manager.condition.IpRange): no IPAddr is built per session.
    class AddressMatcher
      def initialize
        @local_addresses = []
        @remote_addresses = []
      end

      def local_address?(address)
        return false if unknown_address?(address)
        ip_address = ip_address_text(address)
        return false if ip_address and included?(@remote_addresses, ip_address)
        return true if address.local?
        return true if ip_address and included?(@local_addresses, ip_address)
        false
      end

      def remote_address?(address)
        return false if unknown_address?(address)
        not local_address?(address)
      end

      def unknown_address?(address)
        address.unknown?
      end

      # "192.0.2.0/24", "2001:db8::/32", an address, or an IPAddr.
      def add_local_address(address)
        @local_addresses << to_range(address)
      end

      def add_remote_address(address)
        @remote_addresses << to_range(address)
      end

      private
      def ip_address_text(address)
        return nil unless address.ipv4? or address.ipv6?
        address.address
      end

      def included?(ranges, ip_address)
        ranges.any? {|range| range.contains(ip_address)}
      end

      def to_range(address)
        text = address.is_a?(IPAddr) ? "#{address}/#{address.prefix}" : address.to_s
        Java::MilterManagerCondition::IpRange.parse(text)
      rescue Java::JavaLang::IllegalArgumentException => error
        raise ArgumentError, error.message
      end
    end
  end
end
