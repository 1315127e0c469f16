module Milter
  module Manager
    # What manager.define_connection_checker blocks receive.
    class ConnectionCheckContext
      def initialize(context)
        @context = context
      end

      def smtp_client_address
        SocketAddress.from_client_address(@context.smtpClientAddress)
      end

      def smtp_server_address
        SocketAddress.from_client_address(@context.smtpServerAddress)
      end

      def [](name)
        @context.macro(name.to_s)
      end

      def smtp_server_name
        self["v"]
      end
    end

    # manager.netstat_connection_checker: the daemon provides the real one;
    # this stand-in answers "connected" and knows no interface.
    class NetstatConnectionChecker
      attr_accessor :database_lifetime

      def initialize
        @database_lifetime = 5
      end

      def connected?(context)
        true
      end

      def smtp_server_interface_ip_address(client_address)
        nil
      end

      def smtp_server_interface_port(client_address)
        nil
      end
    end
  end
end
