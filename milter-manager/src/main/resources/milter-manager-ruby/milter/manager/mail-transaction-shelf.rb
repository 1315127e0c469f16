module Milter
  module Manager
    # context.mail_transaction_shelf: values shared by the children of one
    # session until the MTA aborts the message. Values are stored as YAML
    # text, so a reader gets its own copy.
    class MailTransactionShelf
      include Enumerable

      def initialize(store)
        @store = store
      end

      def [](key)
        text = @store.get(key.to_s)
        return nil if text.nil?
        self.class.load(text)
      end

      def []=(key, value)
        @store.put(key.to_s, self.class.dump(value))
        value
      end

      def each
        @store.entrySet.each do |entry|
          yield(entry.getKey, self.class.load(entry.getValue))
        end
      end

      class << self
        def dump(value)
          require "yaml"
          YAML.dump(value)
        end

        def load(text)
          require "yaml"
          if YAML.respond_to?(:unsafe_load)
            YAML.unsafe_load(text)
          else
            YAML.load(text)
          end
        end
      end
    end
  end
end
