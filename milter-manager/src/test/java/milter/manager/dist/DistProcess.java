package milter.manager.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One launcher of the assembled distribution run as a real process: its output is collected line by line so
 * tests can wait for a line (a log line saying it listens, a result) instead of sleeping; it is always ended on
 * close.
 */
final class DistProcess implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private DistProcess(Process process) {
        this.process = process;
        this.reader = new Thread(this::read, "dist-output-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static Path dist() {
        return Path.of(System.getProperty("milter.dist", "target/dist"));
    }

    static DistProcess start(String launcher, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(dist().resolve("bin").resolve(launcher).toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("MILTER_MANAGER_CONFIG_DIR");
        // The stock configuration's load_default would add the milters this machine has installed (CI installs
        // opendkim, rspamd ... for the end-to-end suite) as children; these tests define their children themselves.
        builder.environment().put("MILTER_JAVA_OPTS", "-Dmilter.manager.platform=unknown");
        return new DistProcess(builder.start());
    }

    private void read() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // The process ended.
        }
        synchronized (lines) {
            lines.notifyAll();
        }
    }

    /** Waits for a line matching {@code pattern} and returns its match; fails after {@code timeout}. */
    Matcher awaitLine(Pattern pattern, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int checked = 0;
        synchronized (lines) {
            while (true) {
                for (; checked < lines.size(); checked++) {
                    Matcher matcher = pattern.matcher(lines.get(checked));
                    if (matcher.find()) {
                        return matcher;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new AssertionError("no line matching " + pattern + " in output:\n" + output());
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** The port of the first {@code [client][listen][start] <inet:PORT@...>} line. */
    int awaitListeningPort() throws InterruptedException {
        Matcher matcher = awaitLine(Pattern.compile("\\[client\\]\\[listen\\]\\[start\\] <inet6?:(\\d+)@"),
                Duration.ofSeconds(60));
        return Integer.parseInt(matcher.group(1));
    }

    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("process did not end in " + timeout + ":\n" + output());
        }
        reader.join(timeout.toMillis());
        return process.exitValue();
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    String output() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }

    /** Sends a signal by pid (HUP, USR1, TERM). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new AssertionError("kill -" + name + " failed");
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(20, TimeUnit.SECONDS);
        }
    }
}
