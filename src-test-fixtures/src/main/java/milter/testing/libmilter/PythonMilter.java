package milter.testing.libmilter;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import milter.core.net.ConnectionSpec;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real libmilter milter, run by Debian's python3-milter binding from {@code scripted_milter.py}: what it
 * answers at each stage, which modifications it makes at end of message and what it negotiates are given to
 * {@link Builder}. {@link Builder#start()} returns once the milter listens (it prints {@code READY} after
 * {@code listen(2)}); {@link #close()} stops the process and removes its files. Everything the script prints is
 * kept for assertions ({@link #awaitLine}) and for diagnostics ({@link #diagnostics()}).
 */
public final class PythonMilter implements AutoCloseable {
    /** Debian's interpreter; the python3 on PATH may be another one without the binding. */
    public static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final String SCRIPT = "scripted_milter.py";
    private static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(30);
    private static Boolean available;

    private final Process process;
    private final Path directory;
    private final ConnectionSpec spec;
    private final String specText;
    private final List<String> stdout = new ArrayList<>();
    private final List<String> stderr = new ArrayList<>();
    private final Thread stdoutReader;
    private final Thread stderrReader;

    private PythonMilter(List<String> command, Path directory, String specText) throws IOException {
        this.directory = directory;
        this.specText = specText;
        this.spec = ConnectionSpec.parse(specText);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("PYTHONUNBUFFERED", "1");
        this.process = builder.start();
        this.stdoutReader = reader(process.getInputStream(), stdout, "stdout");
        this.stderrReader = reader(process.getErrorStream(), stderr, "stderr");
    }

    /** Whether {@code /usr/bin/python3} can import the Milter module. */
    public static synchronized boolean isAvailable() {
        if (available == null) {
            available = probe();
        }
        return available;
    }

    /**
     * For tests that need the real milter: skips them when python3-milter is missing, but fails them when the
     * environment variable {@code CI} is {@code true} (CI must have it installed).
     */
    public static void assumeAvailable() {
        if (isAvailable()) {
            return;
        }
        String why = PYTHON + " cannot import Milter (install python3-milter)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(why);
        }
        Assumptions.assumeTrue(false, why);
    }

    private static boolean probe() {
        if (!Files.isExecutable(PYTHON)) {
            return false;
        }
        try {
            Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import Milter").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where the milter listens. */
    public ConnectionSpec spec() {
        return spec;
    }

    /** The listen spec as given to the milter ({@code unix:/tmp/...} or {@code inet:PORT@127.0.0.1}). */
    public String specText() {
        return specText;
    }

    /** The lines printed so far on stdout. */
    public List<String> output() {
        synchronized (stdout) {
            return List.copyOf(stdout);
        }
    }

    /** The {@code EVENT} lines so far, without the prefix ({@code helo delian}). */
    public List<String> events() {
        List<String> events = new ArrayList<>();
        for (String line : output()) {
            if (line.startsWith("EVENT ")) {
                events.add(line.substring("EVENT ".length()));
            }
        }
        return events;
    }

    /**
     * Waits until a stdout line matches and returns it. The milter prints a callback's line before it answers,
     * but our reader thread may see it a little later than the MTA side sees the reply: hence the wait.
     *
     * @throws AssertionError when no line matched within {@code timeout} (with the diagnostics)
     */
    public String awaitLine(Predicate<String> matcher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stdout) {
            while (true) {
                for (String line : stdout) {
                    if (matcher.test(line)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching line from the milter within " + timeout + "\n"
                            + diagnostics());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(stdout, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** Waits until {@code line} was printed at least {@code count} times. */
    public void awaitCount(String line, int count, Duration timeout) {
        awaitLine(candidate -> candidate.equals(line) && output().stream().filter(line::equals).count() >= count,
                timeout);
    }

    /** Waits for a line equal to {@code line}. */
    public String awaitLine(String line, Duration timeout) {
        return awaitLine(line::equals, timeout);
    }

    /** The command, stdout and stderr, for failure messages. */
    public String diagnostics() {
        StringBuilder out = new StringBuilder("python milter at ").append(specText)
                .append(process.isAlive() ? " (running)" : " (exited " + process.exitValue() + ")");
        out.append("\n--- stdout\n");
        output().forEach(line -> out.append(line).append('\n'));
        out.append("--- stderr\n");
        synchronized (stderr) {
            stderr.forEach(line -> out.append(line).append('\n'));
        }
        return out.toString();
    }

    /**
     * Kills the milter and removes its socket and script. SIGKILL, because libmilter notices SIGTERM only at
     * its next poll timeout (seconds), and the script keeps nothing worth a clean shutdown.
     */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
            stdoutReader.join(TimeUnit.SECONDS.toMillis(10));
            stderrReader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteRecursively(directory);
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (stdout) {
            while (!stdout.contains("READY")) {
                long left = deadline - System.nanoTime();
                if (!process.isAlive() && left > 0) {
                    // Let the readers drain what the process printed before it died.
                    left = Math.min(left, TimeUnit.MILLISECONDS.toNanos(200));
                    deadline = System.nanoTime() + left;
                }
                if (left <= 0) {
                    throw new IllegalStateException("python milter did not start within " + timeout + "\n"
                            + diagnostics());
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(stdout, Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting the python milter", e);
                }
            }
        }
    }

    private static Thread reader(InputStream in, List<String> lines, String what) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException e) {
                synchronized (lines) {
                    lines.add("[" + what + " read error: " + e + "]");
                    lines.notifyAll();
                }
            }
        }, "python-milter-" + what);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private static void deleteRecursively(Path path) {
        if (path == null || !Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // A leftover socket file in a temp directory is harmless.
                }
            });
        } catch (IOException ignored) {
            // Same as above.
        }
    }

    /** What the milter does; every method adds command-line arguments of {@code scripted_milter.py}. */
    public static final class Builder {
        private final List<String> arguments = new ArrayList<>();
        private boolean inet;
        private String name = "scripted-milter";
        private Duration startTimeout = DEFAULT_START_TIMEOUT;

        private Builder() {
        }

        /** Listen on a free TCP port of 127.0.0.1 instead of a UNIX socket in a temporary directory. */
        public Builder inet() {
            this.inet = true;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** The answer to RCPT for one recipient ({@code user@example.com}, no angle brackets); see {@link #reply}. */
        public Builder replyToRecipient(String address, String... action) {
            return add("--reply", json("envrcpt=" + address.toLowerCase(Locale.ROOT), action));
        }

        /** Actions to request (masked with the offer): a number or names joined by {@code |} ({@code ADDHDRS|CHGBODY}). */
        public Builder actions(String flags) {
            return add("--actions", flags);
        }

        /** Protocol flags to request: a number or names without {@code P_} ({@code NOBODY|NR_HDR|SKIP}). */
        public Builder protocol(String flags) {
            return add("--protocol", flags);
        }

        /** The macro list for a stage ({@code connect helo envfrom envrcpt data eoh eom}); needs SETSYMLIST. */
        public Builder symlist(String stage, String... names) {
            return add("--symlist", json(stage, names));
        }

        /** Print these macros ({@code MACRO stage name=value}) when the stage's callback runs. */
        public Builder macros(String stage, String... names) {
            return add("--macros", json(stage, names));
        }

        /**
         * The answer at a stage ({@code connect helo envfrom envrcpt data header eoh body unknown eom}, or
         * {@code stage#N} for the Nth call of a connection only, {@code stage@N} for the Nth call counted over
         * all connections): {@code continue accept reject tempfail discard skip noreply},
         * or {@code reply CODE XCODE TEXT [LINES...]} (setreply, then reject or tempfail by the code's class).
         */
        public Builder reply(String stage, String... action) {
            return add("--reply", json(stage, action));
        }

        /**
         * An operation at end of message, before the answer: {@code addheader NAME VALUE},
         * {@code insheader INDEX NAME VALUE}, {@code chgheader NAME INDEX VALUE}, {@code addrcpt ADDR [PARAMS]},
         * {@code delrcpt ADDR}, {@code chgfrom ADDR [PARAMS]}, {@code replacebody TEXT},
         * {@code replacebody-bytes COUNT}, {@code quarantine REASON}, {@code progress}, {@code sleep SECONDS}.
         */
        public Builder eom(String operation, String... arguments) {
            return add("--eom", json(operation, arguments));
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        private Builder add(String option, String value) {
            arguments.add(option);
            arguments.add(value);
            return this;
        }

        /** Starts the milter and waits until it listens. */
        public PythonMilter start() {
            Path directory = null;
            PythonMilter milter = null;
            try {
                directory = Files.createTempDirectory("pymilter");
                Path script = directory.resolve(SCRIPT);
                try (InputStream in = PythonMilter.class.getResourceAsStream(SCRIPT)) {
                    if (in == null) {
                        throw new IllegalStateException("resource " + SCRIPT + " is missing");
                    }
                    Files.copy(in, script);
                }
                String listen = inet ? "inet:" + freePort() + "@127.0.0.1" : "unix:" + directory.resolve("milter.sock");
                List<String> command = new ArrayList<>(List.of(PYTHON.toString(), script.toString(),
                        "--listen", listen, "--name", name));
                command.addAll(arguments);
                milter = new PythonMilter(command, directory, listen);
                milter.awaitReady(startTimeout);
                return milter;
            } catch (IOException e) {
                if (milter != null) {
                    milter.close();
                } else {
                    deleteRecursively(directory);
                }
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                if (milter != null) {
                    milter.close();
                } else {
                    deleteRecursively(directory);
                }
                throw e;
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** A JSON array of strings: the form {@code scripted_milter.py} takes for structured arguments. */
    static String json(String first, String... rest) {
        StringBuilder out = new StringBuilder("[");
        appendJson(out, first);
        for (String value : rest) {
            out.append(", ");
            appendJson(out, value);
        }
        return out.append(']').toString();
    }

    private static void appendJson(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || c > 0x7E) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
