module Milter
  module Manager
    # define_policy(NAME) {|policy| ...}: after the top-level file, the
    # policies become one condition, "Policy", added to every milter.
    class PolicyManager
      CONDITION_NAME = "Policy"

      def initialize(loader)
        @loader = loader
        @policies = []
      end

      def <<(policy)
        @policies << policy
      end

      def empty?
        @policies.empty?
      end

      # The condition and its additions are recorded at the first
      # define_policy.
      def apply
        return if @policies.empty?
        @loader.load_context.with_location(@policies.first.location) do
          apply_policies
        end
      end

      private
      def apply_policies
        policies = @policies.dup.freeze
        @loader.define_applicable_condition(CONDITION_NAME) do |condition|
          condition.description = "Apply policies defined by define_policy"

          condition.define_connect_stopper do |context, host, address|
            policies.any? {|policy| policy.stop_on_connect?(context, host, address)}
          end

          # Upstream's helo stopper raises (and so never stops): there is no
          # helo stopper here at all.

          condition.define_envelope_from_stopper do |context, from|
            policies.any? {|policy| policy.stop_on_envelope_from?(context, from)}
          end

          condition.define_envelope_recipient_stopper do |context, recipient|
            policies.any? do |policy|
              policy.stop_on_envelope_recipient?(context, recipient)
            end
          end

          condition.define_data_stopper do |context|
            policies.any? {|policy| policy.stop_on_data?(context)}
          end
        end
        @loader.defined_milters.each do |name|
          @loader.amend_milter(name) do |milter|
            milter.add_applicable_condition(CONDITION_NAME)
          end
        end
      end
    end

    class Policy
      attr_reader :name, :location
      attr_accessor :milters, :host, :address, :fqdn, :from, :recipient

      def initialize(name, location = [nil, 0])
        @name = name
        @location = location
        @milters = []
        @host = nil
        @address = nil
        @fqdn = nil
        @from = nil
        @recipient = nil
      end

      def stop_on_connect?(context, host, address)
        return false unless target_milter?(context)
        not (@host === host or @address === address)
      end

      def stop_on_helo?(context, fqdn)
        return false unless target_milter?(context)
        not (@fqdn === fqdn)
      end

      def stop_on_envelope_from?(context, from)
        return false unless target_milter?(context)
        not (@from === from)
      end

      def stop_on_envelope_recipient?(context, recipient)
        return false unless target_milter?(context)
        not (@recipient === recipient)
      end

      def stop_on_data?(context)
        not target_milter?(context)
      end

      private
      def target_milter?(context)
        @milters.include?(context.name)
      end
    end
  end
end
