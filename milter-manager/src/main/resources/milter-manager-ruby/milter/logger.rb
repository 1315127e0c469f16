module Milter
  # Log lines from configuration code. Upstream's messages carry their tags
  # in the text ("[breaker][detect] ..."); they go out unchanged.
  class Logger
    LEVELS = [
      "critical",
      "error",
      "warning",
      "message",
      "info",
      "debug",
      "trace",
      "statistics",
      "profile",
    ]

    class << self
      def default
        self
      end

      LEVELS.each do |level|
        define_method(level) do |message = nil, &block|
          return unless Java::MilterManagerConfigRuby::RubyLog.enabled(level)
          message = block.call if message.nil? and block
          Java::MilterManagerConfigRuby::RubyLog.log(level, render(message))
        end
      end

      private
      def render(message)
        return message.to_s unless message.is_a?(Exception)
        lines = ["#{message.class}: #{message.message}"]
        lines.concat(message.backtrace || [])
        lines.join("\n")
      end
    end
  end

  module Callback
    module_function
    def guard(fallback_value = nil)
      yield
    rescue Exception => error
      Milter::Logger.error(error)
      fallback_value
    end
  end
end
