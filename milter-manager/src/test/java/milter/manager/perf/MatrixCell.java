package milter.manager.perf;

import java.util.Locale;

/**
 * One measured cell of the matrix: the load run and what the processes spent on it. CPU times are the deltas of
 * {@code /proc/PID/stat} over the run; RSS and heap are peaks of the process under test during the run.
 */
record MatrixCell(String target, String body, int concurrency, int sessions, LoadResult result, long cpuNanos,
        long childrenCpuNanos, long loadCpuNanos, long peakRssBytes, long peakHeapBytes, long collections,
        long collectionMillis, long allocatedBytes, boolean correct) {

    static final String TSV_HEADER = "target\tbody\tconcurrency\tsessions\tsessions_per_s\tp50_ms\tp99_ms\tmax_ms"
            + "\tcpu_ms_per_session\tchildren_cpu_ms_per_session\tload_cpu_ms_per_session\tpeak_rss_mb"
            + "\tpeak_heap_mb\tgcs\tgc_ms\talloc_kb_per_session\tcorrect";

    String label() {
        return target + " / " + PerformanceMatrix.bodyName(body) + " / concurrency " + concurrency;
    }

    boolean direct() {
        return target.equals("direct");
    }

    /** CPU milliseconds of the process under test per session. */
    double cpuMillisPerSession() {
        return cpuNanos / 1e6 / sessions;
    }

    double childrenCpuMillisPerSession() {
        return childrenCpuNanos / 1e6 / sessions;
    }

    double loadCpuMillisPerSession() {
        return loadCpuNanos / 1e6 / sessions;
    }

    /** Kilobytes the process under test allocated per session. */
    double allocatedKilobytesPerSession() {
        return allocatedBytes / 1024.0 / sessions;
    }

    String summary() {
        return String.format(Locale.ROOT, "%-12s %-6s c=%-5d n=%-7d %9.1f/s p50=%8.3f p99=%8.3f max=%9.3f ms"
                        + " cpu=%.3f children=%.3f load=%.3f ms/session alloc=%.1f KB/session rss=%s heap=%s MB%s",
                target, body, concurrency, sessions, result.sessionsPerSecond(), result.p50Millis(),
                result.p99Millis(), result.maxMillis(), cpuMillisPerSession(), childrenCpuMillisPerSession(),
                loadCpuMillisPerSession(), allocatedKilobytesPerSession(), Formats.megabytes(peakRssBytes),
                Formats.megabytes(peakHeapBytes), correct ? "" : "  FAILED");
    }

    String tsv() {
        return String.join("\t", target, body, Integer.toString(concurrency), Integer.toString(sessions),
                Formats.fixed(result.sessionsPerSecond(), 1), Formats.fixed(result.p50Millis(), 3),
                Formats.fixed(result.p99Millis(), 3), Formats.fixed(result.maxMillis(), 3),
                Formats.fixed(cpuMillisPerSession(), 4), Formats.fixed(childrenCpuMillisPerSession(), 4),
                Formats.fixed(loadCpuMillisPerSession(), 4), Formats.megabytes(peakRssBytes),
                Formats.megabytes(peakHeapBytes), Long.toString(collections), Long.toString(collectionMillis),
                Formats.fixed(allocatedKilobytesPerSession(), 1), Boolean.toString(correct));
    }
}
