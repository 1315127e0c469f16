package milter.manager.perf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Whether a reload pauses running sessions: the same load (1 KB, concurrency 32, two children) once as it is and
 * once while the manager gets SIGHUP every {@value #INTERVAL_MILLIS} ms, so that each reload (a full evaluation of
 * the configuration by JRuby on the reload thread) overlaps running sessions.
 */
record ReloadRun(LoadResult quiet, LoadResult reloading, int signals) {
    static final int INTERVAL_MILLIS = 250;
    static final int CONCURRENCY = 32;

    static ReloadRun measure(PerformanceMatrix matrix, BenchProcess manager, int port, Path mail, double seconds)
            throws IOException, InterruptedException {
        LoadResult probe = matrix.load(port, "1k", 1000, CONCURRENCY);
        int sessions = (int) Math.max(1000, probe.sessionsPerSecond() * Math.max(seconds, 4));
        LoadResult quiet = matrix.load(port, "1k", sessions, CONCURRENCY);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger signals = new AtomicInteger();
        Thread hup = new Thread(() -> {
            while (running.get()) {
                try {
                    Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(manager.pid())).start();
                    kill.waitFor();
                    signals.incrementAndGet();
                    Thread.sleep(INTERVAL_MILLIS);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "reload-signals");
        hup.start();
        LoadResult reloading;
        try {
            reloading = matrix.load(port, "1k", sessions, CONCURRENCY);
        } finally {
            running.set(false);
            hup.join();
        }
        if (!quiet.correct(sessions) || !reloading.correct(sessions)) {
            matrix.failures().add("reload: " + (quiet.correct(sessions) ? reloading.problem(sessions)
                    : quiet.problem(sessions)));
        }
        return new ReloadRun(quiet, reloading, signals.get());
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "without reloads %.1f/s p50=%.3f p99=%.3f max=%.3f ms; with %d"
                + " reloads %.1f/s p50=%.3f p99=%.3f max=%.3f ms", quiet.sessionsPerSecond(), quiet.p50Millis(),
                quiet.p99Millis(), quiet.maxMillis(), signals, reloading.sessionsPerSecond(), reloading.p50Millis(),
                reloading.p99Millis(), reloading.maxMillis());
    }
}
