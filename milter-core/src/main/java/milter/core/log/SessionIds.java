package milter.core.log;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The process-wide tag counter of upstream: every protocol agent (an MTA connection, then each of its child
 * connections) takes the next number, starting at 1, and its log lines carry it as {@code [N]}.
 */
public final class SessionIds {
    private static final AtomicLong NEXT = new AtomicLong(1);

    private SessionIds() {
    }

    public static long next() {
        return NEXT.getAndIncrement();
    }
}
