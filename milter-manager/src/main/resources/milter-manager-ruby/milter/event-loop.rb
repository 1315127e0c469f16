module Milter
  # What manager.event_loop_created {|loop| ...} hooks receive.
  class EventLoop
    def initialize(loop)
      @loop = loop
    end

    # Runs the block after +interval+ seconds, again while it returns true.
    def add_timeout(interval, &block)
      raise ArgumentError, "add_timeout needs a block" unless block
      callback = Java::MilterManagerConfigRuby::RubyHooks.timeoutCallback(block)
      @loop.addTimeout(Float(interval), callback)
      nil
    end
  end
end
