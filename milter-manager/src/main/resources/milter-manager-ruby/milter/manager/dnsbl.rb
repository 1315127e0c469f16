module Milter
  module Manager
    # DNS-based blackhole lists for the "DNSBL Listed" / "Not DNSBL Listed"
    # conditions. Lookups run on the manager's DNS loop, never on a session's
    # event loop: if_listed/unless_listed return a deferred answer that a
    # connect stopper may return as is.
    class DNSBL
      def initialize
        @checker = Java::MilterManagerCondition::DnsblChecker.new
      end

      # expected_answer: an address or network ("127.0.0.10/31"); nil lists
      # the client on any answer.
      def add_service(domain, expected_answer = nil)
        expected = expected_answer.nil? ? nil : expected_answer.to_s
        @checker.addService(domain.to_s, expected)
      end

      def clear_services
        @checker.clearServices
      end

      def services
        @checker.serviceDomains.to_a
      end

      # One name server: "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53".
      def name_server=(name_server)
        @checker.setNameServers([name_server.to_s])
      end

      # Appends name servers, as upstream does.
      def name_servers=(name_servers)
        @checker.addNameServers(Array(name_servers).collect(&:to_s))
      end

      def name_servers
        @checker.nameServers.to_a
      end

      def timeout=(seconds)
        @checker.setTimeoutMillis((Float(seconds) * 1000).round)
      end

      # A deferred stopper answer: true when the client is listed.
      def if_listed(address)
        return false unless address.ipv4?
        @checker.listed(address.address)
      end

      # A deferred stopper answer: true when the client is not listed.
      def unless_listed(address)
        return true unless address.ipv4?
        @checker.notListed(address.address)
      end

      # Waits for the answer: for tools, never for stoppers.
      def listed?(address)
        return false unless address.ipv4?
        @checker.listedNow(address.address)
      end
    end
  end
end
