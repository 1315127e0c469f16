package milter.manager;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Process-wide session counts: how many MTA sessions are in progress (what the stress conditions look at) and
 * how many have finished. (The listener itself logs {@code [sessions][finished]}.)
 */
public final class SessionCounter {
    private final AtomicInteger processing = new AtomicInteger();
    private final AtomicLong finished = new AtomicLong();

    public void started() {
        processing.incrementAndGet();
    }

    public void finished() {
        processing.decrementAndGet();
        finished.incrementAndGet();
    }

    public int processing() {
        return processing.get();
    }

    public long finishedTotal() {
        return finished.get();
    }
}
