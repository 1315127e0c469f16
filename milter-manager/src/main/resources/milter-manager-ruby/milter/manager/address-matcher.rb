module Milter
  module Manager
    # Local/remote classification for the "Remote Network" condition.
    # Custom remote networks win over everything; then an address is local
    # when socket_address.local? or inside a custom local network. Unknown
    # addresses are neither local nor remote.
    class AddressMatcher
      def initialize
        @local_addresses = []
        @remote_addresses = []
      end

      def local_address?(address)
        return false if unknown_address?(address)
        ip_address = address.to_ip_address
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

      def add_local_address(address)
        @local_addresses << to_ip_address(address)
      end

      def add_remote_address(address)
        @remote_addresses << to_ip_address(address)
      end

      private
      def included?(networks, ip_address)
        networks.any? do |network|
          network.family == ip_address.family and network.include?(ip_address)
        end
      end

      def to_ip_address(address)
        address.is_a?(IPAddr) ? address : IPAddr.new(address.to_s)
      end
    end
  end
end
