package milter.manager.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import milter.testing.process.Directories;
import milter.testing.process.ManagedProcess;

/**
 * The assembled distribution's {@code bin/milter-manager}, run in the foreground with a configuration directory of
 * its own: the shipped {@code applicable-conditions/} and a {@code milter-manager.conf} that loads them, listens on
 * a free loopback port and defines the children the test gives. The stock file's {@code load_default} is left
 * out on purpose: it detects the milters the distribution has installed system-wide (opendkim, rspamd ...) and
 * would add them as children.
 */
final class ManagerDaemon implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("\\[client\\]\\[listen\\]\\[start\\] <inet6?:(\\d+)@");

    private final Path config;
    private final ManagedProcess process;
    private final int port;

    private ManagerDaemon(Path config, ManagedProcess process, int port) {
        this.config = config;
        this.process = process;
        this.port = port;
    }

    static Path dist() {
        return Path.of(System.getProperty("milter.dist", "target/dist"));
    }

    /** Starts the daemon with {@code eggs} (Ruby DSL) after the conditions are loaded. */
    static ManagerDaemon start(String eggs) throws IOException {
        Path config = Directories.createBase("milter-manager-e2e");
        ManagedProcess process = null;
        try {
            Path conditions = dist().resolve("conf/applicable-conditions");
            Files.createDirectories(config.resolve("applicable-conditions"));
            try (var files = Files.list(conditions)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.copy(file, config.resolve("applicable-conditions").resolve(file.getFileName()));
                }
            }
            Directories.write(config.resolve("milter-manager.conf"), configuration(eggs));
            process = ManagedProcess.start("milter-manager", List.of(dist().resolve("bin/milter-manager").toString(),
                    "-c", config.toString(), "--no-daemon", "--log-level=" + System.getProperty("milter.e2e.manager.log-level", "default|info")), null,
                    Map.of("MILTER_MANAGER_CONFIG_DIR", config.toString()));
            Matcher listening = process.awaitLine(LISTENING, Duration.ofSeconds(90));
            return new ManagerDaemon(config, process, Integer.parseInt(listening.group(1)));
        } catch (IOException | RuntimeException | Error e) {
            if (process != null) {
                process.close();
            }
            Directories.deleteRecursively(config);
            throw e;
        }
    }

    static String configuration(String eggs) {
        return "load(\"applicable-conditions/*.conf\")\n"
                + "manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                + "manager.fallback_status = \"accept\"\n"
                + eggs;
    }

    /** The libmilter-style spec MTAs use to reach the daemon. */
    int port() {
        return port;
    }

    String output() {
        return process.output();
    }

    /** Waits for a log line. */
    Matcher awaitLog(Pattern pattern) {
        return process.awaitLine(pattern, Duration.ofSeconds(60));
    }

    String diagnostics() {
        String output = process.diagnostics();
        // The end is what explains a failure; a 200-mail run logs a lot before it.
        return output.length() > 20000 ? "..." + output.substring(output.length() - 20000) : output;
    }

    @Override
    public void close() throws IOException {
        try {
            process.close();
        } finally {
            Directories.deleteRecursively(config);
        }
    }
}
