package milter.manager.perf;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import milter.server.tool.MilterTestServer;

/**
 * One run of {@code milter-test-server}'s load mode ({@code --n-sessions N --concurrency C}), started in this JVM
 * through the tool's own entry point so that the load generator stays warm from one measurement to the next, and
 * what it printed. A run is correct when the tool exited with 0: every session ended without error and with an
 * expected verdict.
 */
record LoadResult(int exitStatus, int sessions, double sessionsPerSecond, double p50Millis, double p99Millis,
        double maxMillis, Map<String, Integer> statuses, int errors, String output) {

    private static final Pattern RATE = Pattern.compile("(?m)^sessions/s: ([0-9.]+)$");
    private static final Pattern SESSIONS = Pattern.compile("(?m)^sessions: ([0-9]+)$");
    private static final Pattern LATENCY = Pattern.compile(
            "(?m)^latency: p50=([0-9.]+) ms p99=([0-9.]+) ms max=([0-9.]+) ms$");
    private static final Pattern STATUS = Pattern.compile("(?m)^status:(.*)$");
    private static final Pattern ERRORS = Pattern.compile("(?m)^errors: ([0-9]+)$");

    /** Runs {@code milter-test-server ARGS} in this JVM and parses its report. */
    static LoadResult run(List<String> args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.ISO_8859_1)) {
            status = MilterTestServer.run(args.toArray(new String[0]), out, out);
        }
        return parse(status, bytes.toString(StandardCharsets.ISO_8859_1));
    }

    static LoadResult parse(int exitStatus, String output) {
        Matcher latency = LATENCY.matcher(output);
        boolean hasLatency = latency.find();
        Map<String, Integer> statuses = new LinkedHashMap<>();
        Matcher status = STATUS.matcher(output);
        if (status.find()) {
            for (String part : status.group(1).trim().split(" ")) {
                int equals = part.indexOf('=');
                if (equals > 0) {
                    statuses.put(part.substring(0, equals), Integer.parseInt(part.substring(equals + 1)));
                }
            }
        }
        return new LoadResult(exitStatus, intOf(SESSIONS, output), doubleOf(RATE, output),
                hasLatency ? Double.parseDouble(latency.group(1)) : Double.NaN,
                hasLatency ? Double.parseDouble(latency.group(2)) : Double.NaN,
                hasLatency ? Double.parseDouble(latency.group(3)) : Double.NaN,
                statuses, intOf(ERRORS, output), output);
    }

    /** Whether every session passed: exit status 0, no error, only the pass verdict, as many as were asked. */
    boolean correct(int expectedSessions) {
        return exitStatus == 0 && errors == 0 && statuses.keySet().equals(java.util.Set.of("pass"))
                && statuses.get("pass") == expectedSessions;
    }

    /** Why the run is not correct, for the report. */
    String problem(int expectedSessions) {
        List<String> problems = new ArrayList<>();
        if (exitStatus != 0) {
            problems.add("exit status " + exitStatus);
        }
        if (errors != 0) {
            problems.add(errors + " errors");
        }
        if (!statuses.keySet().equals(java.util.Set.of("pass")) || statuses.get("pass") != expectedSessions) {
            problems.add("verdicts " + statuses + " for " + expectedSessions + " sessions");
        }
        return String.join(", ", problems) + "\n" + output;
    }

    private static int intOf(Pattern pattern, String output) {
        Matcher matcher = pattern.matcher(output);
        return matcher.find() ? Integer.parseInt(matcher.group(1)) : -1;
    }

    private static double doubleOf(Pattern pattern, String output) {
        Matcher matcher = pattern.matcher(output);
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : Double.NaN;
    }
}
