package milter.manager.perf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How long the distribution's {@code milter-manager} takes to start with the shipped configuration: from the
 * process start to the first accepted TCP connection on its listening port (only the port is overridden with
 * {@code -s}), and from the process start to the exit of {@code --show-config}. Each is run three times.
 */
record StartupTimes(List<Duration> listening, List<Duration> showConfig) {

    static StartupTimes measure(Path dist, Path work, int port, String javaOptions)
            throws IOException, InterruptedException {
        Files.createDirectories(work);
        List<Duration> listening = new ArrayList<>();
        List<Duration> showConfig = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (BenchProcess manager = BenchProcess.start("startup", dist, "milter-manager",
                    List.of("--no-daemon", "-s", "inet:" + port + "@[127.0.0.1]"), javaOptions,
                    work.resolve("startup-" + i + ".log"))) {
                listening.add(manager.awaitListening(port, Duration.ofSeconds(120)));
            }
            long start = System.nanoTime();
            try (BenchProcess show = BenchProcess.start("show-config", dist, "milter-manager",
                    List.of("--show-config"), javaOptions, work.resolve("show-config-" + i + ".log"))) {
                int status = show.waitFor(Duration.ofSeconds(120));
                if (status != 0) {
                    throw new IOException("--show-config exited with " + status + ":\n" + show.tail());
                }
            }
            showConfig.add(Duration.ofNanos(System.nanoTime() - start));
        }
        return new StartupTimes(listening, showConfig);
    }

    static Duration median(List<Duration> times) {
        List<Duration> sorted = new ArrayList<>(times);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    static String millis(List<Duration> times) {
        List<String> parts = new ArrayList<>();
        for (Duration time : times) {
            parts.add(Long.toString(time.toMillis()));
        }
        return String.join(", ", parts);
    }

    @Override
    public String toString() {
        return "listening " + millis(listening) + " ms; --show-config " + millis(showConfig) + " ms";
    }
}
