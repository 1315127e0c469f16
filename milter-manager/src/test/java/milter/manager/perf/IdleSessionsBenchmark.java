package milter.manager.perf;

import io.netty.channel.EventLoopGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import milter.core.log.SessionIds;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.server.ServerOptions;
import milter.server.ServerSession;
import picocli.CommandLine;

/**
 * Many idle MTA sessions held open through the manager while active sessions run: the manager (with a capped heap,
 * {@code -Xmx512m} by default) and two {@code milter-test-client --quiet} children run from the distribution; this
 * JVM opens the idle sessions (each negotiated and past connect, so the manager holds two child connections for
 * it) and runs {@code milter-test-server}'s load mode for the active ones, first without the idle sessions, then
 * with them. It reports the manager's live heap, RSS and descriptors with the idle sessions, and the active
 * sessions' latency both ways. Every idle session must be accepted and every active one must pass, or the run
 * fails.
 *
 * <p>Each idle session costs three descriptors in the manager (the MTA's connection and one per child): the number
 * of sessions is capped to what the manager's open-file limit allows, and the report says so.
 *
 * <p>Not a test: run it with {@code milter-manager/src/test/perf/idle-sessions.sh}.
 */
@CommandLine.Command(name = "idle-sessions", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Holds idle sessions open through the manager and measures active sessions beside them.")
public final class IdleSessionsBenchmark implements Callable<Integer> {
    static final String BEGIN = "<!-- idle-sessions:begin -->";
    static final String END = "<!-- idle-sessions:end -->";

    @CommandLine.Option(names = "--dist", description = "The assembled distribution (default: ${DEFAULT-VALUE}).")
    Path dist = Path.of("milter-manager/target/dist");

    @CommandLine.Option(names = "--work", description = "Working directory (default: ${DEFAULT-VALUE}).")
    Path work = Path.of("milter-manager/target/perf-idle");

    @CommandLine.Option(names = "--output", description = "Markdown file whose idle-sessions section is replaced (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("docs/performance.md");

    @CommandLine.Option(names = "--no-write", description = "Print the report only.")
    boolean noWrite;

    @CommandLine.Option(names = "--sessions", description = "Idle sessions to hold (default: ${DEFAULT-VALUE}).")
    int sessions = 10_000;

    @CommandLine.Option(names = "--heap", description = "The manager's -Xmx (default: ${DEFAULT-VALUE}).")
    String heap = "512m";

    @CommandLine.Option(names = "--active-concurrency", description = "Concurrency of the active load (default: ${DEFAULT-VALUE}).")
    int activeConcurrency = 32;

    @CommandLine.Option(names = "--active-sessions", description = "Sessions of each active load run (default: ${DEFAULT-VALUE}).")
    int activeSessions = 10_000;

    @CommandLine.Option(names = "--open-concurrency", description = "Idle sessions being opened at a time (default: ${DEFAULT-VALUE}).")
    int openConcurrency = 200;

    @CommandLine.Option(names = "--manager-java-options", description = "Extra JVM options for the manager.")
    String managerJavaOptions = "";

    private final List<String> failures = new ArrayList<>();

    public static void main(String[] args) {
        BenchSetup.quietLogging();
        System.exit(new CommandLine(new IdleSessionsBenchmark()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        List<String> machine = BenchSetup.machine();
        Files.createDirectories(work);
        long fileLimit = openFileLimit();
        // The manager needs three descriptors per idle session, plus its jars, listeners and the active load.
        int feasible = (int) Math.max(0, (fileLimit - 600) / 3);
        int held = Math.min(sessions, feasible);
        List<Integer> ports = BenchSetup.freePorts(3);
        int managerPort = ports.get(0);
        List<Integer> childPorts = ports.subList(1, 3);
        Path mail = BenchSetup.mailFile(work, "mail-1k.eml", 1024);
        String report;
        List<BenchProcess> children = new ArrayList<>();
        EventLoopGroup group = Transport.best().newEventLoopGroup(1, "idle-mta");
        List<ServerSession> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                children.add(BenchProcess.start("child" + (i + 1), dist, "milter-test-client",
                        List.of("--quiet", "-s", "inet:" + childPorts.get(i) + "@127.0.0.1"),
                        "-Dmilter.manager.platform=unknown", work.resolve("child" + (i + 1) + ".log")));
            }
            for (int i = 0; i < 2; i++) {
                children.get(i).awaitListening(childPorts.get(i), Duration.ofSeconds(60));
            }
            Path config = BenchSetup.managerConfig(work.resolve("manager"), managerPort, childPorts, "default",
                    work.resolve("manager-session.log"));
            String options = ("-Dmilter.manager.platform=unknown -Xmx" + heap + " " + managerJavaOptions).trim();
            try (BenchProcess manager = BenchProcess.start("manager", dist, "milter-manager",
                    List.of("-c", config.toString(), "--no-daemon"), options, work.resolve("manager.log"))) {
                manager.awaitListening(managerPort, Duration.ofSeconds(120));
                try (JvmMemory memory = JvmMemory.attach(manager.pid())) {
                    long managerLimit = processFileLimit(manager.pid());
                    if (managerLimit > 0 && managerLimit < fileLimit) {
                        held = Math.min(held, (int) Math.max(0, (managerLimit - 600) / 3));
                    }
                    log("manager open-file limit " + managerLimit + "; holding " + held + " idle sessions"
                            + (held < sessions ? " (asked for " + sessions + ")" : ""));
                    load(managerPort, mail, 3000, activeConcurrency);
                    load(managerPort, mail, activeSessions, activeConcurrency);
                    LoadResult before = check(load(managerPort, mail, activeSessions, activeConcurrency),
                            activeSessions, "active load without idle sessions");
                    long liveBefore = memory.liveHeapBytes();
                    long rssBefore = ProcStats.rssBytes(manager.pid());
                    log("without idle sessions: " + describe(before) + "; live heap " + Formats.megabytes(liveBefore)
                            + " MB");
                    long openStart = System.nanoTime();
                    int opened = open(group, managerPort, held, idle);
                    double openSeconds = (System.nanoTime() - openStart) / 1e9;
                    if (opened < held) {
                        failures.add("only " + opened + " of " + held + " idle sessions were accepted");
                    }
                    int managerFiles = ProcStats.openFiles(manager.pid());
                    long live = memory.liveHeapBytes();
                    long rss = ProcStats.rssBytes(manager.pid());
                    log(opened + " idle sessions open after " + Formats.fixed(openSeconds, 1) + " s; manager fds "
                            + managerFiles + ", live heap " + Formats.megabytes(live) + " MB, RSS "
                            + Formats.megabytes(rss) + " MB");
                    ProcStats.resetPeakRss(manager.pid());
                    memory.resetPeaks();
                    LoadResult with = check(load(managerPort, mail, activeSessions, activeConcurrency),
                            activeSessions, "active load with idle sessions");
                    long peakHeap = memory.peakHeapBytes();
                    long peakRss = ProcStats.peakRssBytes(manager.pid());
                    int stillOpen = countOpen(idle);
                    if (stillOpen < opened) {
                        failures.add((opened - stillOpen) + " idle sessions were closed during the active load");
                    }
                    log("with idle sessions: " + describe(with) + "; idle sessions still open: " + stillOpen);
                    report = report(started, machine, fileLimit, managerLimit, held, opened, openSeconds,
                            managerFiles, liveBefore, rssBefore, live, rss, peakHeap, peakRss, memory.maxHeapBytes(),
                            before, with, stillOpen);
                    closeAll(idle);
                }
                if (!manager.isAlive()) {
                    failures.add("the manager died; see " + manager.log());
                }
            }
        } finally {
            closeAll(idle);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            children.forEach(BenchProcess::close);
        }
        System.out.println(report);
        if (!noWrite) {
            replaceSection(output, report);
        }
        if (!failures.isEmpty()) {
            failures.forEach(System.err::println);
            return 1;
        }
        return 0;
    }

    /** Opens {@code count} sessions, each negotiated and answered at connect; returns how many made it. */
    private int open(EventLoopGroup group, int port, int count, List<ServerSession> idle) throws InterruptedException {
        ServerOptions base = ServerOptions.of(ConnectionSpec.parse("inet:" + port + "@127.0.0.1"), "idle-mta")
                .withAllTimeouts(Duration.ofSeconds(120));
        Semaphore slots = new Semaphore(openConcurrency);
        ConcurrentLinkedQueue<ServerSession> open = new ConcurrentLinkedQueue<>();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        Option offer = Option.offer(6);
        Command.Connect connect = new Command.Connect("idle.example.net", SocketFamily.INET, 50000, "192.0.2.9");
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            slots.acquire();
            CompletableFuture<Void> done = new CompletableFuture<>();
            all.add(done);
            ServerSession.connect(base.withTag(SessionIds.next()), group.next(), Transport.best())
                    .thenCompose(session -> session.negotiate(offer)
                            .thenCompose(option -> session.send(connect))
                            .thenApply(reply -> {
                                if (reply.type() != Reply.Continue.INSTANCE.type()) {
                                    throw new IllegalStateException("connect answered " + reply);
                                }
                                open.add(session);
                                return session;
                            }))
                    .whenComplete((session, error) -> {
                        if (error != null) {
                            failed.incrementAndGet();
                            firstError.compareAndSet(null, String.valueOf(error));
                        }
                        slots.release();
                        done.complete(null);
                    });
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
        idle.addAll(open);
        if (failed.get() > 0) {
            failures.add(failed.get() + " idle sessions failed to open; first: " + firstError.get());
        }
        return open.size();
    }

    private static int countOpen(List<ServerSession> idle) {
        int open = 0;
        for (ServerSession session : idle) {
            if (!session.closeFuture().toCompletableFuture().isDone()) {
                open++;
            }
        }
        return open;
    }

    private static void closeAll(List<ServerSession> idle) {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (ServerSession session : idle) {
            closing.add(session.quit().toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            log("closing idle sessions: " + e);
        }
        idle.clear();
    }

    private static LoadResult load(int port, Path mail, int sessions, int concurrency) {
        return LoadResult.run(List.of("-s", "inet:" + port + "@127.0.0.1", "--mail-file", mail.toString(),
                "--n-sessions", Integer.toString(sessions), "--concurrency", Integer.toString(concurrency)));
    }

    private LoadResult check(LoadResult result, int sessions, String what) {
        if (!result.correct(sessions)) {
            failures.add(what + ": " + result.problem(sessions));
        }
        return result;
    }

    private static String describe(LoadResult result) {
        return String.format(Locale.ROOT, "%.0f sessions/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms",
                result.sessionsPerSecond(), result.p50Millis(), result.p99Millis(), result.maxMillis());
    }

    private String report(String started, List<String> machine, long fileLimit, long managerLimit, int held,
            int opened, double openSeconds, int managerFiles, long liveBefore, long rssBefore, long live, long rss,
            long peakHeap, long peakRss, long maxHeap, LoadResult before, LoadResult with, int stillOpen) {
        StringBuilder out = new StringBuilder();
        out.append("### Idle sessions run, ").append(started).append("\n\n");
        for (String line : machine) {
            out.append("* ").append(line).append('\n');
        }
        out.append("* Command (repository root): `milter-manager/src/test/perf/idle-sessions.sh");
        if (sessions != 10_000) {
            out.append(" --sessions ").append(sessions);
        }
        if (!heap.equals("512m")) {
            out.append(" --heap ").append(heap);
        }
        out.append("`\n");
        out.append("* Manager: `-Xmx").append(heap).append("` (max heap reported by the JVM: ")
                .append(Formats.megabytes(maxHeap)).append(" MB), two `milter-test-client --quiet` children, open-file"
                        + " limit ").append(managerLimit).append(" (this JVM: ").append(fileLimit).append(").\n");
        if (held < sessions) {
            out.append("* **Capped**: ").append(Formats.integer(sessions)).append(" idle sessions were asked for, but"
                    + " each costs the manager three descriptors and the open-file limit here allows ")
                    .append(Formats.integer(held)).append(" (the hard limit cannot be raised in this environment);"
                            + " the per-session figures below scale linearly.\n");
        }
        double perSession = opened == 0 ? 0 : (live - liveBefore) / (double) opened;
        out.append("\n| | idle sessions | manager fds | live heap MB | RSS MB | active sessions/s | p50 ms | p99 ms |"
                + " max ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        out.append("| without idle sessions | 0 | – | ").append(Formats.megabytes(liveBefore)).append(" | ")
                .append(Formats.megabytes(rssBefore)).append(" | ").append(Formats.fixed(before.sessionsPerSecond(), 0))
                .append(" | ").append(Formats.fixed(before.p50Millis(), 2)).append(" | ")
                .append(Formats.fixed(before.p99Millis(), 2)).append(" | ").append(Formats.fixed(before.maxMillis(), 1))
                .append(" |\n");
        out.append("| with idle sessions | ").append(Formats.integer(opened)).append(" | ").append(managerFiles)
                .append(" | ").append(Formats.megabytes(live)).append(" | ").append(Formats.megabytes(rss)).append(" | ")
                .append(Formats.fixed(with.sessionsPerSecond(), 0)).append(" | ")
                .append(Formats.fixed(with.p50Millis(), 2)).append(" | ").append(Formats.fixed(with.p99Millis(), 2))
                .append(" | ").append(Formats.fixed(with.maxMillis(), 1)).append(" |\n\n");
        out.append("* Opening ").append(Formats.integer(opened)).append(" sessions (").append(openConcurrency)
                .append(" at a time) took ").append(Formats.fixed(openSeconds, 1)).append(" s; all ")
                .append(stillOpen == opened ? "stayed open" : "but " + (opened - stillOpen) + " stayed open")
                .append(" through the active load (").append(Formats.integer(activeSessions))
                .append(" sessions of 1 KB at concurrency ").append(activeConcurrency).append(").\n");
        out.append("* Live heap per idle session (after a full GC, with its two child connections): ")
                .append(Formats.fixed(perSession / 1024, 2)).append(" KB; peak heap during the active load: ")
                .append(Formats.megabytes(peakHeap)).append(" MB; peak RSS: ").append(Formats.megabytes(peakRss))
                .append(" MB.\n");
        long projected = liveBefore + (long) (perSession * 10_000);
        out.append("* 10 000 idle sessions at that rate: about ").append(Formats.megabytes(projected))
                .append(" MB of live heap.\n");
        if (!failures.isEmpty()) {
            out.append("\n**FAILED**:\n\n");
            for (String failure : failures) {
                out.append("* ").append(failure.lines().findFirst().orElse(failure)).append('\n');
            }
        }
        return out.toString();
    }

    /** The soft open-file limit of this process. */
    private static long openFileLimit() {
        return processFileLimit(ProcStats.self());
    }

    static long processFileLimit(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] fields = line.substring("Max open files".length()).trim().split("\\s+");
                    return fields[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(fields[0]);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    static void replaceSection(Path file, String report) throws java.io.IOException {
        String text = Files.exists(file) ? Files.readString(file) : "";
        String section = BEGIN + "\n" + report.strip() + "\n" + END;
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        if (begin >= 0 && end > begin) {
            text = text.substring(0, begin) + section + text.substring(end + END.length());
        } else {
            text = text.stripTrailing() + "\n\n" + section + "\n";
        }
        Files.writeString(file, text);
    }

    private static void log(String line) {
        PerformanceMatrix.log(line);
    }
}
