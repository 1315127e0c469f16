package milter.manager.condition;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * Upstream's {@code Milter::Manager::Breaker}: the process is "stressed" when the threshold is positive and at
 * most the number of sessions in progress. The threshold is set by the configuration
 * ({@code stress.threshold_n_connections = N}; 0 = never) or detected on first use. Detection runs processes,
 * so from a stopper it is started on a background thread and the breaker answers "not stressed" until it ends;
 * the stopper path itself only reads an atomic.
 */
public final class StressBreaker {
    private static final int UNKNOWN = -1;
    private static final int DETECTING = -2;

    private final AtomicInteger threshold = new AtomicInteger(UNKNOWN);
    private final IntSupplier detector;

    public StressBreaker() {
        this(() -> new PostfixThresholdDetector().detect());
    }

    public StressBreaker(IntSupplier detector) {
        this.detector = detector;
    }

    /** The threshold, detecting it now (blocking) when it is not known yet. */
    public int thresholdNConnections() {
        int current = threshold.get();
        if (current >= 0) {
            return current;
        }
        int detected = Math.max(0, detector.getAsInt());
        threshold.compareAndSet(current, detected);
        return threshold.get() < 0 ? detected : threshold.get();
    }

    /** Sets the threshold; a negative value forgets it (detected again on next use). */
    public void setThresholdNConnections(int value) {
        threshold.set(value < 0 ? UNKNOWN : value);
    }

    /** Non-blocking: never waits for detection. */
    public boolean stressing(int processingSessions) {
        int current = threshold.get();
        if (current == UNKNOWN) {
            startDetection();
            return false;
        }
        return current > 0 && current <= processingSessions;
    }

    private void startDetection() {
        if (!threshold.compareAndSet(UNKNOWN, DETECTING)) {
            return;
        }
        Thread thread = new Thread(() -> {
            int detected;
            try {
                detected = Math.max(0, detector.getAsInt());
            } catch (RuntimeException e) {
                detected = 0;
            }
            threshold.compareAndSet(DETECTING, detected);
        }, "milter-stress-detect");
        thread.setDaemon(true);
        thread.start();
    }
}
