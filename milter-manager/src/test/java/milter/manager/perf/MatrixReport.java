package milter.manager.perf;

import java.util.List;
import java.util.Map;

/** The Markdown section {@link PerformanceMatrix} writes into {@code docs/performance.md}. */
final class MatrixReport {
    private MatrixReport() {
    }

    static String render(PerformanceMatrix matrix, String started, List<String> machine) {
        StringBuilder out = new StringBuilder();
        out.append("### Matrix run \"").append(matrix.label()).append("\", ").append(started).append("\n\n");
        for (String line : machine) {
            out.append("* ").append(line).append('\n');
        }
        out.append("* Load average after the run: ").append(BenchSetup.loadAverage()).append('\n');
        out.append("* Command (repository root): `").append(matrix.commandLine()).append("`\n");
        out.append("* Load generator: `milter-test-server` load mode run inside the benchmark JVM (")
                .append(matrix.loadThreads()).append(" event-loop thread").append(matrix.loadThreads() == 1 ? "" : "s")
                .append("); children: one `milter-test-client --quiet` process each; manager: `bin/milter-manager`"
                        + " with a generated configuration (the children, `log.level = \"default\"` to a file)");
        if (!matrix.managerJavaOptions().isEmpty()) {
            out.append(", extra JVM options `").append(matrix.managerJavaOptions()).append('`');
        }
        out.append("; socket transport: ").append(matrix.transport().equals("auto") ? "epoll (the default)"
                : matrix.transport()).append(" in every process; all connections TCP over loopback.\n");
        out.append("* Each cell aims at about ").append(Formats.number(matrix.seconds()))
                .append(" s (sessions sized from the previous cell's rate, at least three rounds of the"
                        + " concurrency); 10 MB bodies stop at concurrency ").append(matrix.maxLargeConcurrency())
                .append(" and run at least one round. Every session must end with the pass verdict.\n");
        out.append("* CPU columns: user + system time from `/proc/PID/stat` over the cell, per session: the process"
                + " under test (the manager; the child for `direct`), all children together, and the load"
                + " generator's JVM. Allocated: bytes the process under test allocated (its threads' counters). Peak RSS: `VmHWM` (reset before each cell); peak heap: sum of the heap pools'"
                + " peaks over the cell (JMX of the process under test); GCs: collections during the cell.\n");
        if (!matrix.failures().isEmpty()) {
            out.append("\n**FAILED**: ").append(matrix.failures().size()).append(" cell(s) had errors or unexpected"
                    + " verdicts:\n\n");
            for (String failure : matrix.failures()) {
                out.append("* ").append(failure.lines().findFirst().orElse(failure)).append('\n');
            }
        }
        targets(out, matrix);
        for (String body : matrix.bodies()) {
            out.append("\n#### ").append(PerformanceMatrix.bodyName(body)).append(" body\n\n");
            out.append("| Target | Conc. | Sessions | Sessions/s | p50 ms | p99 ms | max ms | CPU ms/session |"
                    + " children CPU ms/session | load gen. CPU ms/session | alloc. KB/session | peak RSS MB |"
                    + " peak heap MB | GCs |\n");
            out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (MatrixCell cell : matrix.cells()) {
                if (!cell.body().equals(body)) {
                    continue;
                }
                LoadResult r = cell.result();
                out.append("| ").append(cell.target()).append(cell.correct() ? "" : " **FAILED**")
                        .append(" | ").append(cell.concurrency())
                        .append(" | ").append(Formats.integer(cell.sessions()))
                        .append(" | ").append(Formats.fixed(r.sessionsPerSecond(), 0))
                        .append(" | ").append(Formats.fixed(r.p50Millis(), 2))
                        .append(" | ").append(Formats.fixed(r.p99Millis(), 2))
                        .append(" | ").append(Formats.fixed(r.maxMillis(), 1))
                        .append(" | ").append(Formats.fixed(cell.cpuMillisPerSession(), 3))
                        .append(" | ").append(Formats.fixed(cell.childrenCpuMillisPerSession(), 3))
                        .append(" | ").append(Formats.fixed(cell.loadCpuMillisPerSession(), 3))
                        .append(" | ").append(Formats.fixed(cell.allocatedKilobytesPerSession(), 1))
                        .append(" | ").append(Formats.megabytes(cell.peakRssBytes()))
                        .append(" | ").append(Formats.megabytes(cell.peakHeapBytes()))
                        .append(" | ").append(cell.collections())
                        .append(" |\n");
            }
        }
        other(out, matrix);
        return out.toString();
    }

    private static void targets(StringBuilder out, PerformanceMatrix matrix) {
        MatrixCell best = best(matrix, "2 children", "1k");
        MatrixCell direct = best(matrix, "direct", "1k");
        MatrixCell large = find(matrix, "2 children", "100k", 1);
        out.append("\n#### Against the targets\n\n");
        out.append("| Target | Goal | Measured | |\n|---|---|---|---|\n");
        if (best != null) {
            double rate = best.result().sessionsPerSecond();
            out.append("| 1 KB, 2 children, best concurrency | ≥ 1500 sessions/s | ")
                    .append(Formats.fixed(rate, 0)).append(" sessions/s at concurrency ").append(best.concurrency())
                    .append(" | ").append(verdict(rate >= 1500)).append(" |\n");
            if (direct != null) {
                double ratio = rate / direct.result().sessionsPerSecond();
                out.append("| the same against direct to one child (best, same run) | ≥ 0.6 | ")
                        .append(Formats.fixed(ratio, 2)).append(" (direct: ")
                        .append(Formats.fixed(direct.result().sessionsPerSecond(), 0)).append(" sessions/s at"
                                + " concurrency ").append(direct.concurrency()).append(") | ")
                        .append(verdict(ratio >= 0.6)).append(" |\n");
            }
            double lowest = Double.MAX_VALUE;
            for (MatrixCell cell : matrix.cells()) {
                if (cell.target().equals("2 children") && cell.body().equals("1k")) {
                    lowest = Math.min(lowest, cell.cpuMillisPerSession());
                }
            }
            out.append("| manager CPU per 1 KB session, 2 children | ≤ 0.3 ms | ")
                    .append(Formats.fixed(best.cpuMillisPerSession(), 3)).append(" ms at the best concurrency;"
                            + " lowest ").append(Formats.fixed(lowest, 3)).append(" ms | ")
                    .append(verdict(best.cpuMillisPerSession() <= 0.3)).append(" |\n");
        }
        if (large != null) {
            out.append("| 100 KB, 2 children, concurrency 1, p50 | ≤ 10 ms | ")
                    .append(Formats.fixed(large.result().p50Millis(), 2)).append(" ms | ")
                    .append(verdict(large.result().p50Millis() <= 10)).append(" |\n");
        }
        StartupTimes startup = matrix.startup();
        if (startup != null) {
            long median = StartupTimes.median(startup.listening()).toMillis();
            out.append("| start-up to listening, shipped configuration | ≤ 2 s | ").append(median)
                    .append(" ms (median of ").append(StartupTimes.millis(startup.listening())).append(" ms) | ")
                    .append(verdict(median <= 2000)).append(" |\n");
        }
        ReloadRun reload = matrix.reload();
        if (reload != null) {
            out.append("| a reload does not pause running sessions | no pause | p99 ")
                    .append(Formats.fixed(reload.quiet().p99Millis(), 2)).append(" → ")
                    .append(Formats.fixed(reload.reloading().p99Millis(), 2)).append(" ms, max ")
                    .append(Formats.fixed(reload.quiet().maxMillis(), 1)).append(" → ")
                    .append(Formats.fixed(reload.reloading().maxMillis(), 1)).append(" ms with ")
                    .append(reload.signals()).append(" reloads | see below |\n");
        }
    }

    private static void other(StringBuilder out, PerformanceMatrix matrix) {
        StartupTimes startup = matrix.startup();
        ReloadRun reload = matrix.reload();
        if (startup == null && reload == null && matrix.liveHeap().isEmpty()) {
            return;
        }
        out.append("\n#### Start-up, reload, live heap\n\n");
        if (startup != null) {
            out.append("* Start-up of `bin/milter-manager --no-daemon -s inet:PORT@[127.0.0.1]` with the shipped"
                    + " `conf/` (no milter detected), process start to the first accepted connection: ")
                    .append(StartupTimes.millis(startup.listening())).append(" ms. `--show-config`, start to exit: ")
                    .append(StartupTimes.millis(startup.showConfig())).append(" ms.\n");
        }
        if (reload != null) {
            LoadResult quiet = reload.quiet();
            LoadResult reloading = reload.reloading();
            out.append("* Reload (1 KB, 2 children, concurrency ").append(ReloadRun.CONCURRENCY).append(", ")
                    .append(Formats.integer(quiet.sessions())).append(" sessions each): without reloads ")
                    .append(Formats.fixed(quiet.sessionsPerSecond(), 0)).append(" sessions/s, p50 ")
                    .append(Formats.fixed(quiet.p50Millis(), 2)).append(" ms, p99 ")
                    .append(Formats.fixed(quiet.p99Millis(), 2)).append(" ms, max ")
                    .append(Formats.fixed(quiet.maxMillis(), 1)).append(" ms; with SIGHUP every ")
                    .append(ReloadRun.INTERVAL_MILLIS).append(" ms (").append(reload.signals()).append(" reloads) ")
                    .append(Formats.fixed(reloading.sessionsPerSecond(), 0)).append(" sessions/s, p50 ")
                    .append(Formats.fixed(reloading.p50Millis(), 2)).append(" ms, p99 ")
                    .append(Formats.fixed(reloading.p99Millis(), 2)).append(" ms, max ")
                    .append(Formats.fixed(reloading.maxMillis(), 1)).append(" ms.\n");
        }
        for (Map.Entry<String, Long> entry : matrix.liveHeap().entrySet()) {
            out.append("* Live heap of the manager with ").append(entry.getKey())
                    .append(" after its rows (full GC): ").append(Formats.megabytes(entry.getValue()))
                    .append(" MB.\n");
        }
    }

    private static String verdict(boolean met) {
        return met ? "met" : "**not met**";
    }

    private static MatrixCell best(PerformanceMatrix matrix, String target, String body) {
        MatrixCell best = null;
        for (MatrixCell cell : matrix.cells()) {
            if (cell.target().equals(target) && cell.body().equals(body) && cell.correct()
                    && (best == null || cell.result().sessionsPerSecond() > best.result().sessionsPerSecond())) {
                best = cell;
            }
        }
        return best;
    }

    private static MatrixCell find(PerformanceMatrix matrix, String target, String body, int concurrency) {
        for (MatrixCell cell : matrix.cells()) {
            if (cell.target().equals(target) && cell.body().equals(body) && cell.concurrency() == concurrency) {
                return cell;
            }
        }
        return null;
    }
}
