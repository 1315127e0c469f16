package milter.manager.perf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The end-to-end benchmark: {@code milter-test-server}'s load mode (in this JVM) sends the same mail again and
 * again, either straight to one {@code milter-test-client --quiet} child or through {@code milter-manager} with 1,
 * 2 or 5 such children, for several body sizes and concurrency levels, all in one run against the assembled
 * distribution. Each cell reports throughput, latency percentiles, the CPU time each process spent per session
 * (from {@code /proc/PID/stat}), the peak RSS and the peak heap of the process under test (the manager; the
 * child for the direct rows). Every session must end with the pass verdict; a cell where one did not makes the
 * run fail (exit status 1) after the report is written. Times are reported, never asserted.
 *
 * <p>Not a test (the name does not end in {@code Test}): run it with {@code milter-manager/src/test/perf/performance-matrix.sh}.
 */
@Command(name = "performance-matrix", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs the end-to-end benchmark matrix and writes it into docs/performance.md.")
public final class PerformanceMatrix implements Callable<Integer> {
    static final String BEGIN = "<!-- performance-matrix:begin -->";
    static final String END = "<!-- performance-matrix:end -->";

    @Option(names = "--dist", description = "The assembled distribution (default: ${DEFAULT-VALUE}).")
    Path dist = Path.of("milter-manager/target/dist");

    @Option(names = "--work", description = "Working directory for configurations and logs (default: ${DEFAULT-VALUE}).")
    Path work = Path.of("milter-manager/target/perf");

    @Option(names = "--output", description = "Markdown file whose matrix section is replaced (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("docs/performance.md");

    @Option(names = "--no-write", description = "Print the report only; leave the output file alone.")
    boolean noWrite;

    @Option(names = "--quick", description = "A subset: direct and 2 children, 1 KB and 100 KB, concurrency 1, 32, 128; 2 s cells.")
    boolean quick;

    @Option(names = "--targets", split = ",", description = "direct and/or child counts (default: direct,1,2,5).")
    List<String> targets = new ArrayList<>(List.of("direct", "1", "2", "5"));

    @Option(names = "--bodies", split = ",", description = "Body sizes: 1k, 100k, 10m (default: all).")
    List<String> bodies = new ArrayList<>(List.of("1k", "100k", "10m"));

    @Option(names = "--concurrency", split = ",", description = "Concurrency levels (default: 1,8,32,128,1000).")
    List<Integer> concurrencies = new ArrayList<>(List.of(1, 8, 32, 128, 1000));

    @Option(names = "--seconds", description = "Aimed duration of one cell (default: ${DEFAULT-VALUE}).")
    double seconds = 5;

    @Option(names = "--max-large-concurrency", description = "Highest concurrency for 10 MB bodies (default: ${DEFAULT-VALUE}).")
    int maxLargeConcurrency = 128;

    @Option(names = "--warm-up", description = "Seconds of unreported 1 KB load after each start (default: ${DEFAULT-VALUE}).")
    double warmUpSeconds = 15;

    @Option(names = "--load-threads", description = "Event-loop threads of the load generator (default: ${DEFAULT-VALUE}).")
    int loadThreads = 1;

    @Option(names = "--manager-dist", description = "Another distribution to take the manager from (for before/after comparisons).")
    Path managerDist;

    @Option(names = "--manager-java-options", description = "Extra JVM options for the manager (MILTER_JAVA_OPTS).")
    String managerJavaOptions = "";

    @Option(names = "--child-java-options", description = "Extra JVM options for the children (MILTER_JAVA_OPTS).")
    String childJavaOptions = "";

    @Option(names = "--transport", description = "Socket transport of every process: auto, epoll, io_uring, nio (default: ${DEFAULT-VALUE}).")
    String transport = "auto";

    @Option(names = "--manager-threads", description = "milter-manager --threads (default: its own default).")
    Integer managerThreads;

    @Option(names = "--log-level", description = "The manager's log.level (default: ${DEFAULT-VALUE}).")
    String logLevel = "default";

    @Option(names = "--label", description = "A name for this run in the report (default: ${DEFAULT-VALUE}).")
    String label = "current";

    @Option(names = "--skip-startup", description = "Do not measure the start-up time.")
    boolean skipStartup;

    @Option(names = "--skip-reload", description = "Do not measure sessions under repeated reloads.")
    boolean skipReload;

    private final List<MatrixCell> cells = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final Map<String, Double> rates = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final Map<String, Long> liveHeap = new LinkedHashMap<>();
    private StartupTimes startup;
    private ReloadRun reload;
    private Path mailDirectory;
    private List<Integer> childPorts;
    private final List<BenchProcess> children = new ArrayList<>();

    public static void main(String[] args) {
        BenchSetup.quietLogging();
        System.exit(new CommandLine(new PerformanceMatrix()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        System.setProperty(milter.core.net.Transport.PROPERTY, transport);
        if (quick) {
            targets = List.of("direct", "2");
            bodies = List.of("1k", "100k");
            concurrencies = List.of(1, 32, 128);
            seconds = Math.min(seconds, 2);
            warmUpSeconds = Math.min(warmUpSeconds, 5);
        }
        if (!Files.isExecutable(dist.resolve("bin/milter-manager"))) {
            System.err.println("no distribution at " + dist + ": run mvn -B -q -DskipTests package first");
            return 2;
        }
        String started = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        List<String> machine = BenchSetup.machine();
        Files.createDirectories(work);
        mailDirectory = Files.createDirectories(work.resolve("mail"));
        int maxChildren = 1;
        for (String target : targets) {
            if (!target.equals("direct")) {
                maxChildren = Math.max(maxChildren, Integer.parseInt(target));
            }
        }
        List<Integer> ports = BenchSetup.freePorts(maxChildren + 2);
        int managerPort = ports.get(0);
        int startupPort = ports.get(1);
        childPorts = ports.subList(2, ports.size());
        try {
            if (!skipStartup) {
                startup = StartupTimes.measure(managerDist != null ? managerDist : dist, work.resolve("startup"),
                        startupPort, javaOptions(managerJavaOptions));
                log("startup: " + startup);
            }
            startChildren(maxChildren);
            for (String target : targets) {
                if (target.equals("direct")) {
                    runDirect();
                } else {
                    runManager(Integer.parseInt(target), managerPort);
                }
            }
        } finally {
            children.forEach(BenchProcess::close);
        }
        String report = MatrixReport.render(this, started, machine);
        System.out.println(report);
        Files.writeString(work.resolve("report-" + label + ".md"), report);
        writeTsv(work.resolve("results-" + label + ".tsv"));
        if (!noWrite) {
            replaceSection(output, report);
        }
        if (!failures.isEmpty()) {
            System.err.println("FAILED cells:");
            failures.forEach(System.err::println);
            return 1;
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------ processes

    private void startChildren(int count) throws IOException, InterruptedException {
        for (int i = 0; i < count; i++) {
            int port = childPorts.get(i);
            BenchProcess child = BenchProcess.start("child" + (i + 1), dist, "milter-test-client",
                    List.of("--quiet", "-s", "inet:" + port + "@127.0.0.1"), javaOptions(childJavaOptions),
                    work.resolve("child" + (i + 1) + ".log"));
            children.add(child);
        }
        for (int i = 0; i < count; i++) {
            children.get(i).awaitListening(childPorts.get(i), Duration.ofSeconds(60));
        }
        log("children listening on " + childPorts.subList(0, count));
    }

    private String javaOptions(String extra) {
        // Milters installed on the machine must not become children through the platform defaults.
        return ("-Dmilter.manager.platform=unknown -D" + milter.core.net.Transport.PROPERTY + "=" + transport + " "
                + extra).trim();
    }

    private void runDirect() throws Exception {
        BenchProcess child = children.get(0);
        try (JvmMemory memory = JvmMemory.attach(child.pid())) {
            Measured measured = new Measured("direct", child, memory);
            warmUp(measured, childPorts.get(0), "1k", warmUpSeconds);
            for (String body : bodies) {
                runRow(measured, childPorts.get(0), body);
            }
        }
    }

    private void runManager(int childCount, int port) throws Exception {
        String target = childCount + (childCount == 1 ? " child" : " children");
        Path config = BenchSetup.managerConfig(work.resolve("manager-" + childCount), port,
                childPorts.subList(0, childCount), logLevel, work.resolve("manager-" + childCount + "-session.log"));
        List<String> args = new ArrayList<>(List.of("-c", config.toString(), "--no-daemon"));
        if (managerThreads != null) {
            args.add("--threads");
            args.add(managerThreads.toString());
        }
        try (BenchProcess manager = BenchProcess.start("manager-" + childCount,
                managerDist != null ? managerDist : dist, "milter-manager", args,
                javaOptions(managerJavaOptions), work.resolve("manager-" + childCount + ".log"))) {
            Duration listening = manager.awaitListening(port, Duration.ofSeconds(120));
            log(target + ": manager listening after " + listening.toMillis() + " ms");
            try (JvmMemory memory = JvmMemory.attach(manager.pid())) {
                Measured measured = new Measured(target, manager, memory);
                warmUp(measured, port, "1k", warmUpSeconds);
                for (String body : bodies) {
                    runRow(measured, port, body);
                }
                if (childCount == 2 && !skipReload && bodies.contains("1k")) {
                    reload = ReloadRun.measure(this, manager, port, mail("1k"), seconds);
                    log("reload: " + reload);
                }
                liveHeap.put(target, memory.liveHeapBytes());
            }
            if (!manager.isAlive()) {
                failures.add(target + ": the manager died; see " + manager.log());
            }
        }
    }

    /** Runs sessions that are not reported, so that the JIT and the pools are warm for the measured cells. */
    private void warmUp(Measured measured, int port, String body, double warmSeconds) {
        int sessions = body.equals("1k") ? 2000 : body.equals("100k") ? 300 : 8;
        LoadResult pilot = load(port, body, sessions, 8);
        if (!pilot.correct(sessions)) {
            failures.add(measured.target + " warm-up " + body + ": " + pilot.problem(sessions));
            return;
        }
        double rate = pilot.sessionsPerSecond();
        int more = (int) Math.min(200_000, rate * warmSeconds);
        if (more > sessions) {
            LoadResult second = load(port, body, more, 32);
            if (!second.correct(more)) {
                failures.add(measured.target + " warm-up " + body + ": " + second.problem(more));
                return;
            }
            rate = second.sessionsPerSecond();
        }
        rates.put(measured.target + "/" + body, rate);
    }

    private void runRow(Measured measured, int port, String body) {
        warmUpRow(measured, port, body);
        for (int concurrency : concurrencies) {
            if (body.equals("10m") && concurrency > maxLargeConcurrency) {
                continue;
            }
            int sessions = sessionsFor(measured.target, body, concurrency);
            MatrixCell cell = measure(measured, port, body, concurrency, sessions);
            cells.add(cell);
            rates.put(measured.target + "/" + body, cell.result().sessionsPerSecond());
            log(cell.summary());
            if (!cell.correct()) {
                failures.add(cell.label() + ": " + cell.result().problem(sessions));
            }
        }
    }

    private void warmUpRow(Measured measured, int port, String body) {
        String key = measured.target + "/" + body;
        if (rates.containsKey(key)) {
            return;
        }
        int sessions = body.equals("100k") ? 200 : body.equals("10m") ? 8 : 1000;
        LoadResult result = load(port, body, sessions, 8);
        if (!result.correct(sessions)) {
            failures.add(measured.target + " warm-up " + body + ": " + result.problem(sessions));
        }
        rates.put(key, Double.isNaN(result.sessionsPerSecond()) ? 10 : result.sessionsPerSecond());
    }

    /** Enough sessions for about {@link #seconds} at the rate last seen, at least a few rounds of concurrency. */
    private int sessionsFor(String target, String body, int concurrency) {
        double rate = rates.getOrDefault(target + "/" + body, 100.0);
        if (concurrency == 1) {
            // The last rate came from a higher concurrency; one session at a time is slower.
            rate /= 2;
        }
        boolean large = body.equals("10m");
        int minimum = large ? Math.max(concurrency, 8) : Math.max(3 * concurrency, 50);
        int maximum = large ? Math.max(concurrency, 64) : 200_000;
        long wanted = Math.round(rate * seconds);
        return (int) Math.max(minimum, Math.min(maximum, wanted));
    }

    MatrixCell measure(Measured measured, int port, String body, int concurrency, int sessions) {
        long pid = measured.process.pid();
        long self = ProcStats.self();
        ProcStats.resetPeakRss(pid);
        measured.memory.resetPeaks();
        long gcs = measured.memory.collections();
        long gcMillis = measured.memory.collectionMillis();
        long allocated = measured.memory.allocatedBytes();
        long cpu = ProcStats.cpuNanos(pid);
        long childrenCpu = childrenCpu();
        long loadCpu = ProcStats.cpuNanos(self);
        LoadResult result = load(port, body, sessions, concurrency);
        long cpuDelta = ProcStats.cpuNanos(pid) - cpu;
        long childrenDelta = childrenCpu() - childrenCpu;
        long loadDelta = ProcStats.cpuNanos(self) - loadCpu;
        return new MatrixCell(measured.target, body, concurrency, sessions, result, cpuDelta, childrenDelta,
                loadDelta, ProcStats.peakRssBytes(pid), measured.memory.peakHeapBytes(),
                measured.memory.collections() - gcs, measured.memory.collectionMillis() - gcMillis,
                measured.memory.allocatedBytes() - allocated, result.correct(sessions));
    }

    private long childrenCpu() {
        long sum = 0;
        for (BenchProcess child : children) {
            sum += ProcStats.cpuNanos(child.pid());
        }
        return sum;
    }

    LoadResult load(int port, String body, int sessions, int concurrency) {
        List<String> args = List.of("-s", "inet:" + port + "@127.0.0.1", "--mail-file", mail(body).toString(),
                "--n-sessions", Integer.toString(sessions), "--concurrency", Integer.toString(concurrency),
                "--event-loop-threads", Integer.toString(loadThreads));
        return LoadResult.run(args);
    }

    Path mail(String body) {
        Path file = mailDirectory.resolve("mail-" + body + ".eml");
        if (!Files.exists(file)) {
            try {
                BenchSetup.mailFile(mailDirectory, file.getFileName().toString(), bodyBytes(body));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return file;
    }

    static int bodyBytes(String body) {
        switch (body) {
            case "1k":
                return 1024;
            case "100k":
                return 100 * 1024;
            case "10m":
                return 10 * 1024 * 1024;
            default:
                throw new IllegalArgumentException("unknown body size " + body + " (1k, 100k, 10m)");
        }
    }

    static String bodyName(String body) {
        switch (body) {
            case "1k":
                return "1 KB";
            case "100k":
                return "100 KB";
            default:
                return "10 MB";
        }
    }

    // ------------------------------------------------------------------------------------------ output

    List<MatrixCell> cells() {
        return cells;
    }

    List<String> failures() {
        return failures;
    }

    StartupTimes startup() {
        return startup;
    }

    ReloadRun reload() {
        return reload;
    }

    Map<String, Long> liveHeap() {
        return liveHeap;
    }

    List<String> notes() {
        return notes;
    }

    String commandLine() {
        StringBuilder command = new StringBuilder("milter-manager/src/test/perf/performance-matrix.sh");
        if (quick) {
            command.append(" --quick");
        }
        if (seconds != (quick ? 2 : 5)) {
            command.append(" --seconds ").append(Formats.number(seconds));
        }
        if (!managerJavaOptions.isEmpty()) {
            command.append(" --manager-java-options '").append(managerJavaOptions).append('\'');
        }
        if (loadThreads != 1) {
            command.append(" --load-threads ").append(loadThreads);
        }
        if (managerThreads != null) {
            command.append(" --manager-threads ").append(managerThreads);
        }
        if (!transport.equals("auto")) {
            command.append(" --transport ").append(transport);
        }
        return command.toString();
    }

    String label() {
        return label;
    }

    List<String> bodies() {
        return bodies;
    }

    List<String> targets() {
        return targets;
    }

    int maxLargeConcurrency() {
        return maxLargeConcurrency;
    }

    double seconds() {
        return seconds;
    }

    int loadThreads() {
        return loadThreads;
    }

    String managerJavaOptions() {
        return managerJavaOptions;
    }

    String transport() {
        return transport;
    }

    private void writeTsv(Path file) throws IOException {
        StringBuilder tsv = new StringBuilder(MatrixCell.TSV_HEADER).append('\n');
        for (MatrixCell cell : cells) {
            tsv.append(cell.tsv()).append('\n');
        }
        Files.writeString(file, tsv);
    }

    /** Replaces the text between the markers (or appends a marked section) with {@code report}. */
    static void replaceSection(Path file, String report) throws IOException {
        String text = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        String section = BEGIN + "\n" + report.strip() + "\n" + END;
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        if (begin >= 0 && end > begin) {
            text = text.substring(0, begin) + section + text.substring(end + END.length());
        } else {
            text = text.stripTrailing() + "\n\n" + section + "\n";
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    static void log(String line) {
        System.err.println(String.format(Locale.ROOT, "[%tT] %s", System.currentTimeMillis(), line));
    }

    /** The process whose CPU, RSS and heap a row reports, and its management connection. */
    record Measured(String target, BenchProcess process, JvmMemory memory) {
    }
}
