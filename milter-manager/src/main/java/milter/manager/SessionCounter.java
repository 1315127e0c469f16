package milter.manager;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import milter.core.log.TaggedLogger;

/**
 * Process-wide session counts: how many MTA sessions are in progress (what the stress conditions look at) and
 * how many have finished, reported as upstream's {@code [sessions][finished] TOTAL(+NEW) PROCESSING}.
 */
public final class SessionCounter {
    private final AtomicInteger processing = new AtomicInteger();
    private final AtomicLong finished = new AtomicLong();

    public void started() {
        processing.incrementAndGet();
    }

    public void finished() {
        int now = processing.decrementAndGet();
        long total = finished.incrementAndGet();
        TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[sessions][finished]", total + "(+1) " + now);
    }

    public int processing() {
        return processing.get();
    }

    public long finishedTotal() {
        return finished.get();
    }
}
