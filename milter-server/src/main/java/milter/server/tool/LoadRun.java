package milter.server.tool;

import io.netty.channel.EventLoopGroup;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import milter.core.log.SessionIds;
import milter.core.net.Transport;
import milter.server.ServerOptions;

/**
 * {@code --n-sessions N --concurrency C}: N sessions of the same plan, at most C at a time, spread over an event
 * loop group; each finished session starts the next. Reports throughput, latency percentiles and the count of
 * each verdict; sessions that failed or ended with a verdict outside the expected set make the run fail.
 */
final class LoadRun {
    private final SessionPlan plan;
    private final ServerOptions options;
    private final EventLoopGroup group;
    private final Transport transport;
    private final int sessions;
    private final int concurrency;
    private final SessionResult[] results;
    private final AtomicInteger started = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    LoadRun(SessionPlan plan, ServerOptions options, EventLoopGroup group, Transport transport, int sessions,
            int concurrency) {
        this.plan = plan;
        this.options = options;
        this.group = group;
        this.transport = transport;
        this.sessions = sessions;
        this.concurrency = Math.max(1, Math.min(concurrency, sessions));
        this.results = new SessionResult[sessions];
    }

    /** Runs every session and returns the report; the exit status is 0 only when every verdict was expected. */
    Report run() {
        long start = System.nanoTime();
        if (sessions == 0) {
            done.complete(null);
        }
        for (int i = 0; i < concurrency; i++) {
            startNext();
        }
        done.join();
        return new Report(results, System.nanoTime() - start, concurrency);
    }

    private void startNext() {
        int index = started.getAndIncrement();
        if (index >= sessions) {
            return;
        }
        TestSession session = new TestSession(plan, options.withTag(SessionIds.next()), group.next(), transport,
                null);
        session.run().whenComplete((result, failure) -> {
            results[index] = result;
            if (finished.incrementAndGet() == sessions) {
                done.complete(null);
            } else {
                startNext();
            }
        });
    }

    /** What a load run measured. */
    static final class Report {
        final int sessions;
        final int concurrency;
        final long elapsedNanos;
        final long[] latencies;
        final Map<String, Integer> statuses = new TreeMap<>();
        final Map<String, Integer> errors = new LinkedHashMap<>();

        Report(SessionResult[] results, long elapsedNanos, int concurrency) {
            this.sessions = results.length;
            this.concurrency = concurrency;
            this.elapsedNanos = elapsedNanos;
            this.latencies = new long[results.length];
            for (int i = 0; i < results.length; i++) {
                SessionResult result = results[i];
                latencies[i] = result.latencyNanos();
                if (result.succeeded()) {
                    statuses.merge(result.statusName(), 1, Integer::sum);
                } else {
                    errors.merge(result.error(), 1, Integer::sum);
                }
            }
            Arrays.sort(latencies);
        }

        int errorCount() {
            return errors.values().stream().mapToInt(Integer::intValue).sum();
        }

        /** Whether every session ended without error and with one of {@code expected}. */
        boolean passed(Set<String> expected) {
            return errors.isEmpty() && expected.containsAll(statuses.keySet());
        }

        void print(StringBuilder out) {
            double seconds = elapsedNanos / 1e9;
            out.append("sessions: ").append(sessions).append('\n');
            out.append("concurrency: ").append(concurrency).append('\n');
            out.append("elapsed-time: ").append(Formats.g(seconds)).append(" seconds\n");
            out.append("sessions/s: ").append(String.format(Locale.ROOT, "%.1f", seconds > 0 ? sessions / seconds : 0))
                    .append('\n');
            out.append(String.format(Locale.ROOT, "latency: p50=%.3f ms p99=%.3f ms max=%.3f ms\n",
                    percentile(0.50) / 1e6, percentile(0.99) / 1e6,
                    (latencies.length == 0 ? 0 : latencies[latencies.length - 1]) / 1e6));
            out.append("status:");
            statuses.forEach((status, count) -> out.append(' ').append(status).append('=').append(count));
            out.append('\n');
            out.append("errors: ").append(errorCount()).append('\n');
            errors.forEach((error, count) -> out.append("error: ").append(error).append(" (").append(count)
                    .append(")\n"));
        }

        /** Nearest-rank percentile of the session latencies, in nanoseconds. */
        long percentile(double fraction) {
            if (latencies.length == 0) {
                return 0;
            }
            int rank = (int) Math.ceil(fraction * latencies.length);
            return latencies[Math.max(0, Math.min(latencies.length - 1, rank - 1))];
        }
    }
}
