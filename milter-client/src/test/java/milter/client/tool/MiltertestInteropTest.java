package milter.client.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import milter.client.MilterClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Interoperability with OpenDKIM's {@code miltertest} (libmilter's MTA side, driven by Lua scripts under
 * {@code src/test/resources/miltertest}) against milter-test-client running in this JVM. Each script fails with a
 * non-zero exit status on the first unexpected reply or missing modification.
 */
class MiltertestInteropTest {
    static final Path MILTERTEST = Path.of("/usr/bin/miltertest");

    @BeforeAll
    static void requireMiltertest() {
        boolean present = Files.isExecutable(MILTERTEST);
        if (!present && "true".equals(System.getenv("CI"))) {
            fail("miltertest is required in CI: install the Debian package miltertest");
        }
        assumeTrue(present, "miltertest is not installed");
    }

    /** Exit status of miltertest and what it printed. */
    record Run(int status, String output) {
    }

    private static Run run(String script, String... toolArgs) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        List<String> args = new ArrayList<>(List.of("-s", "inet:0@[127.0.0.1]", "--threads=1"));
        args.addAll(List.of(toolArgs));
        MilterTestClient.Launch launch = MilterTestClient.launch(args.toArray(String[]::new), Map.of(), out);
        MilterClient client = launch.client();
        assertNotNull(client, bytes.toString(StandardCharsets.UTF_8));
        try {
            int port = ((InetSocketAddress) client.boundAddress()).getPort();
            Process process = new ProcessBuilder(MILTERTEST.toString(), "-v", "-D", "port=" + port, "-s",
                    resource(script).toString()).redirectErrorStream(true).start();
            try {
                process.getOutputStream().close();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    fail("miltertest did not finish " + script);
                }
                String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return new Run(process.exitValue(), output + "\n--- milter-test-client ---\n"
                        + bytes.toString(StandardCharsets.UTF_8));
            } finally {
                process.destroyForcibly();
            }
        } finally {
            client.close();
        }
    }

    private static Path resource(String script) throws URISyntaxException, IOException {
        return Path.of(MiltertestInteropTest.class.getResource("/miltertest/" + script).toURI());
    }

    @Test
    void everyStageSeveralMessagesAndAbort() throws Exception {
        Run run = run("stages.lua");
        assertEquals(0, run.status(), run.output());
        assertTrue(run.output().contains("envelope-from: <<sender@example.com>>"), run.output());
        assertTrue(run.output().contains("abort\n"), run.output());
        assertTrue(run.output().contains("unknown: <HELP>"), run.output());
    }

    @Test
    void everyModificationKind() throws Exception {
        Run run = run("modifications.lua", "--no-report-request", "--add-header=X-Added:yes",
                "--insert-header=0:X-First:1", "--change-header=1:Subject:[TEST] Hello",
                "--delete-header=1:Received", "--add-recipient=<new@example.org>",
                "--delete-recipient=<old@example.org>", "--replace-body=Replaced body\r\n",
                "--quarantine=held for review", "--progress=2", "--reply-end-of-message=accept");
        assertEquals(0, run.status(), run.output());
    }

    @Test
    void modificationChecksFailWithoutModifications() throws Exception {
        // The scripts' checks can fail: without the options the same script must not pass.
        Run run = run("modifications.lua", "--no-report-request", "--reply-end-of-message=accept");
        assertNotEquals(0, run.status(), run.output());
    }

    @Test
    void scriptedRejectsAndReplyCodes() throws Exception {
        Run run = run("replies.lua", "--no-report-request", "--reply-envelope-recipient=<bad@example.org>:reject",
                "--reply-envelope-recipient=<later@example.org>:451 4.7.1 Try later",
                "--reply-end-of-message=554 5.7.1 Message refused");
        assertEquals(0, run.status(), run.output());
    }

    @Test
    void negotiatedSkipAndNoReplyFlags() throws Exception {
        Run run = run("negotiate.lua", "--no-report-request", "--negotiate-flags=no-helo|no-reply-header|no-unknown",
                "--delay-header=0.05");
        assertEquals(0, run.status(), run.output());
    }
}
