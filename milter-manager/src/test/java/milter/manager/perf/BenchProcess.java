package milter.manager.perf;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One launcher of the assembled distribution running as a separate process for a benchmark: its output goes to a
 * log file, it is ready when its TCP port accepts a connection, and {@link #close()} ends it with SIGTERM (then
 * SIGKILL after a grace period). The process is the JVM itself ({@code milter-launch} execs java), so its pid is
 * the one whose {@code /proc} entries the benchmark reads.
 */
final class BenchProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;
    private final long startNanos;

    private BenchProcess(String name, Process process, Path log, long startNanos) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
    }

    /**
     * Starts {@code dist/bin/launcher args...} with {@code javaOptions} as {@code MILTER_JAVA_OPTS}; output goes
     * to {@code log}.
     */
    static BenchProcess start(String name, Path dist, String launcher, List<String> args, String javaOptions,
            Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(dist.resolve("bin").resolve(launcher).toString());
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> environment = builder.environment();
        environment.remove("MILTER_MANAGER_CONFIG_DIR");
        environment.put("MILTER_JAVA_OPTS", javaOptions);
        long start = System.nanoTime();
        return new BenchProcess(name, builder.start(), log, start);
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Waits until {@code port} on 127.0.0.1 accepts a connection and returns the time from the start of the
     * process; fails when the process exits or {@code timeout} passes first. The probe connection is closed at
     * once (the peer sees a connection that sends nothing).
     */
    Duration awaitListening(int port, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return Duration.ofNanos(System.nanoTime() - startNanos);
            } catch (IOException refused) {
                if (!process.isAlive()) {
                    throw new IOException(name + " exited with " + process.exitValue() + " before listening on "
                            + port + "; output:\n" + tail());
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException(name + " not listening on " + port + " after " + timeout + "; output:\n"
                            + tail());
                }
                Thread.sleep(20);
            }
        }
    }

    /** Waits until a line of the log contains {@code text}; returns the time from the start of the process. */
    Duration awaitLogLine(String text, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(log) && Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains(text)) {
                return Duration.ofNanos(System.nanoTime() - startNanos);
            }
            if (!process.isAlive()) {
                throw new IOException(name + " exited with " + process.exitValue() + " before logging <" + text
                        + ">; output:\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(name + " did not log <" + text + "> within " + timeout + "; output:\n"
                        + tail());
            }
            Thread.sleep(5);
        }
    }

    /** The last lines of the process output, for error messages. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** Waits for the process to exit by itself; returns its exit status. */
    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException(name + " still running after " + timeout);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(15, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
