package milter.testing.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A daemon run in the foreground as a child of the JVM: stdout and stderr are collected line by line (tests wait
 * for a line instead of sleeping), and {@link #close()} ends it together with every process it started.
 */
public final class ManagedProcess implements AutoCloseable {
    private static final long POLL_MILLIS = 10;

    private final String name;
    private final List<String> command;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private ManagedProcess(String name, List<String> command, Process process) {
        this.name = name;
        this.command = List.copyOf(command);
        this.process = process;
        this.reader = new Thread(this::read, name + "-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code command} with stdin from /dev/null and stderr merged into stdout. */
    public static ManagedProcess start(String name, List<String> command, Path directory, Map<String, String> env)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        builder.environment().putAll(env);
        ManagedProcess started = new ManagedProcess(name, command, builder.start());
        ShutdownGuard.register(started);
        return started;
    }

    public static ManagedProcess start(String name, List<String> command) throws IOException {
        return start(name, command, null, Map.of());
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

    /** Waits for an output line matching {@code pattern}; fails with the output when the process ends first. */
    public Matcher awaitLine(Pattern pattern, Duration timeout) {
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
                if (left <= 0 || !reader.isAlive()) {
                    throw new AssertionError(name + ": no line matching " + pattern + " within " + timeout + "\n"
                            + diagnostics());
                }
                try {
                    lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /**
     * Waits until something listens on 127.0.0.1:{@code port}; fails when the process exits first. Used for
     * daemons that say nothing when they are ready.
     */
    public void awaitListening(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!LoopbackPorts.isListening(port)) {
            if (!process.isAlive()) {
                awaitOutputEnd();
                throw new AssertionError(name + " exited with " + process.exitValue() + " before listening on port "
                        + port + "\n" + diagnostics());
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(name + " did not listen on port " + port + " within " + timeout + "\n"
                        + diagnostics());
            }
            pause();
        }
    }

    private void awaitOutputEnd() {
        try {
            reader.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    public String output() {
        return String.join("\n", lines());
    }

    /** The command, its state and its output, for failure messages. */
    public String diagnostics() {
        return "--- " + name + " " + (process.isAlive() ? "(running)" : "(exited " + process.exitValue() + ")")
                + ": " + String.join(" ", command) + "\n" + output() + "\n";
    }

    /** Sends a signal by name ({@code HUP}, {@code TERM}) to the process itself. */
    public void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /**
     * SIGTERM to the process and everything it started (the tree as it is now), then SIGKILL to whatever is still
     * alive after {@code grace}. Fails if anything survives.
     */
    public void stop(Duration grace) {
        List<ProcessHandle> tree = new ArrayList<>();
        process.descendants().forEach(tree::add);
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle handle : tree) {
            long left = Math.max(0, deadline - System.nanoTime());
            try {
                handle.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                handle.destroyForcibly();
            }
        }
        for (ProcessHandle handle : tree) {
            try {
                handle.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(name + ": process " + handle.pid() + " survived SIGKILL");
            }
        }
        awaitOutputEnd();
        ShutdownGuard.unregister(this);
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(10));
    }
}
