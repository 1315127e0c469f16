module Milter
  module Manager
    # Stress detection for the "Stress Notify" and "No Stress" conditions.
    # stressing? never blocks: when the threshold is not known yet, it is
    # detected in the background and the answer is "not stressed" meanwhile.
    class Breaker
      def initialize(java_breaker = nil)
        @breaker = java_breaker || Java::MilterManagerCondition::StressBreaker.new
      end

      # The threshold in sessions (0: never stressed); detects it when unset.
      def threshold_n_connections
        @breaker.thresholdNConnections
      end

      # nil forgets the threshold: it is detected again on next use.
      def threshold_n_connections=(n)
        @breaker.setThresholdNConnections(n.nil? ? -1 : Integer(n))
      end

      def stressing?(context)
        @breaker.stressing(Integer(context.n_processing_sessions))
      end
    end
  end
end
