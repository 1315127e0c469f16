module Milter
  module Manager
    class Error < StandardError
    end

    class ConfigurationLoader
      # An invalid value: the rest of the current file is skipped.
      #
      #   InvalidValue.new("manager.fallback_status", ["accept", "reject"], "bogus")
      #   # => manager.fallback_status should be one of [accept, reject] but was "bogus"
      class InvalidValue < Error
        attr_reader :target, :available_values, :actual_value

        def self.message(text)
          new(nil, nil, nil, text)
        end

        def initialize(target, available_values, actual_value, message = nil)
          @target = target
          @available_values = available_values
          @actual_value = actual_value
          message ||= build_message
          super(message)
        end

        private
        def build_message
          case @available_values
          when Array
            values = @available_values.collect(&:to_s).join(", ")
            "#{@target} should be one of [#{values}] but was #{@actual_value.inspect}"
          else
            "#{@target} #{@available_values} but was #{@actual_value.inspect}"
          end
        end
      end

      # A relative path found in no load path.
      class NonexistentPath < Error
        attr_reader :path

        def initialize(path)
          @path = path
          super("#{path} doesn't exist.")
        end
      end

      # A value that must be set first (database.setup): treated like an
      # invalid value.
      class MissingValue < Error
        attr_reader :target

        def initialize(target)
          @target = target
          super("#{target} should be set")
        end
      end
    end
  end
end
