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
        Files.writeString(config.resolve("milter-manager.local.conf"), ""
                + "manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                + "define_milter(\"child-a\") do |milter|\n"
                + "  milter.connection_spec = \"inet:" + portA + "@[127.0.0.1]\"\n"
                + "end\n"
                + "define_milter(\"child-b\") do |milter|\n"
                + "  milter.connection_spec = \"inet:" + portB + "@[127.0.0.1]\"\n"
                + "end\n");
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
}
