package milter.manager.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The assembled distribution from the command line: milter-test-server → milter-manager → two milter-test-client
 * children, as the README shows it.
 */
class DistributionIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path config;

    private void writeConfig(int portA, int portB) throws Exception {
        copyStockConfiguration();
        writeLocal("manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                + milter("child-a", portA) + milter("child-b", portB));
    }

    private static String milter(String name, int port) {
        return "define_milter(\"" + name + "\") do |milter|\n"
                + "  milter.connection_spec = \"inet:" + port + "@[127.0.0.1]\"\n"
                + "end\n";
    }

    private void writeLocal(String text) throws Exception {
        Path local = config.resolve("milter-manager.local.conf");
        Path temporary = config.resolve("milter-manager.local.conf.new");
        Files.writeString(temporary, text);
        Files.move(temporary, local, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void copyStockConfiguration() throws Exception {
        Path conf = DistProcess.dist().resolve("conf");
        try (var files = Files.walk(conf)) {
            for (Path source : (Iterable<Path>) files::iterator) {
                Path target = config.resolve(conf.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }

    @Test
    void testServerThroughManagerToTwoTestClients() throws Exception {
        try (DistProcess a = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1", "--log-level=info",
                "--add-header", "X-Child-A:seen");
                DistProcess b = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1",
                        "--log-level=info", "--reply-envelope-recipient", "<bad@example.com>:reject")) {
            writeConfig(a.awaitListeningPort(), b.awaitListeningPort());
            try (DistProcess manager = DistProcess.start("milter-manager", "-c", config.toString(), "--no-daemon",
                    "--log-level=default|info")) {
                int port = manager.awaitListeningPort();
                String spec = "inet:" + port + "@127.0.0.1";

                DistProcess pass = DistProcess.start("milter-test-server", "-s", spec, "-f", "<from@example.org>",
                        "-r", "<to@example.com>", "-h", "Subject:hello", "-b", "body text", "--output-message");
                assertEquals(0, pass.waitFor(WAIT), pass.output());
                assertTrue(pass.output().contains("status: pass"), pass.output());
                assertTrue(pass.output().contains("+ X-Child-A: seen"), pass.output());

                DistProcess reject = DistProcess.start("milter-test-server", "-s", spec, "-f", "<from@example.org>",
                        "-r", "<bad@example.com>");
                assertEquals(0, reject.waitFor(WAIT), reject.output());
                assertTrue(reject.output().contains("status: reject"), reject.output());

                manager.awaitLine(Pattern.compile("\\[session\\]\\[end\\]\\[end-of-message\\]\\[pass\\]"), WAIT);
                manager.awaitLine(Pattern.compile("\\[milter\\]\\[end\\]\\[envelope-recipient\\]\\[reject\\]"
                        + "\\[[0-9.e+-]+\\]\\(\\d+\\): child-b"), WAIT);

                manager.signal("TERM");
                assertEquals(0, manager.waitFor(WAIT), manager.output());
                assertFalse(manager.isAlive());
            }
        }
    }

    @Test
    void reloadDuringAStreamOfSessionsLosesNoneAndLaterSessionsUseTheNewChildren() throws Exception {
        try (DistProcess a = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1", "--log-level=info",
                "--quiet", "--add-header", "X-Child:a");
                DistProcess c = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1",
                        "--log-level=info", "--quiet", "--add-header", "X-Child:c")) {
            int portA = a.awaitListeningPort();
            int portC = c.awaitListeningPort();
            copyStockConfiguration();
            writeLocal("manager.connection_spec = \"inet:0@[127.0.0.1]\"\n" + milter("child-a", portA));
            try (DistProcess manager = DistProcess.start("milter-manager", "-c", config.toString(), "--no-daemon",
                    "--log-level=default|info")) {
                String spec = "inet:" + manager.awaitListeningPort() + "@127.0.0.1";
                try (DistProcess load = DistProcess.start("milter-test-server", "-s", spec, "--n-sessions", "20000",
                        "--concurrency", "4", "-f", "<from@example.org>", "-r", "<to@example.com>", "-b", "x")) {
                    writeLocal("manager.connection_spec = \"inet:0@[127.0.0.1]\"\n" + milter("child-c", portC));
                    manager.signal("HUP");
                    manager.awaitLine(Pattern.compile("\\[manager\\]\\[reload\\] configuration reloaded"), WAIT);
                    assertTrue(load.isAlive(), "the reload should land while sessions are running");
                    assertEquals(0, load.waitFor(Duration.ofMinutes(5)), load.output());
                    assertTrue(load.output().contains("errors: 0"), load.output());
                }
                DistProcess after = DistProcess.start("milter-test-server", "-s", spec, "-f", "<from@example.org>",
                        "-r", "<to@example.com>", "--output-message");
                assertEquals(0, after.waitFor(WAIT), after.output());
                assertTrue(after.output().contains("+ X-Child: c"), after.output());
                assertFalse(after.output().contains("X-Child: a"), after.output());
                manager.signal("TERM");
                assertEquals(0, manager.waitFor(WAIT), manager.output());
            }
        }
    }

    @Test
    void testServerDrivesTestClientOverAUnixSocket() throws Exception {
        Path socket = config.resolve("child.sock");
        try (DistProcess child = DistProcess.start("milter-test-client", "-s", "unix:" + socket, "--log-level=info",
                "--add-header", "X-Unix:yes")) {
            child.awaitLine(Pattern.compile("\\[client\\]\\[listen\\]\\[start\\] <unix:"), WAIT);
            DistProcess session = DistProcess.start("milter-test-server", "-s", "unix:" + socket, "-f",
                    "<from@example.org>", "-r", "<to@example.com>", "-b", "hello", "--output-message");
            assertEquals(0, session.waitFor(WAIT), session.output());
            assertTrue(session.output().contains("status: pass"), session.output());
            assertTrue(session.output().contains("+ X-Unix: yes"), session.output());
        }
    }
}
