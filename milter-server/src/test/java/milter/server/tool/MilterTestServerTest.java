package milter.server.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import milter.core.protocol.ActionFlags;
import milter.server.FaultMilter;
import milter.testing.libmilter.PythonMilter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** milter-test-server run in-process against real libmilter milters (and a silent peer for the timeout). */
class MilterTestServerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String BODY = "Body:----------------------------------\n"
            + "La de da de da 1.\nLa de da de da 2.\nLa de da de da 3.\nLa de da de da 4.\n";

    /** What one run printed and returned; the elapsed time is replaced by XXX as upstream's tests do. */
    record Run(int exit, String output) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = MilterTestServer.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String output = out.toString(StandardCharsets.UTF_8)
                .replaceAll("elapsed-time: [0-9.e+-]+ seconds", "elapsed-time: XXX seconds");
        return new Run(exit, output);
    }

    private static String[] withSpec(PythonMilter milter, String... args) {
        List<String> all = new ArrayList<>(List.of("-s", milter.specText(), "--color=no"));
        all.addAll(List.of(args));
        return all.toArray(new String[0]);
    }

    private static PythonMilter start(Consumer<PythonMilter.Builder> configure) {
        PythonMilter.assumeAvailable();
        PythonMilter.Builder builder = PythonMilter.builder();
        configure.accept(builder);
        return builder.start();
    }

    @Test
    void defaultConversationPasses() {
        try (PythonMilter milter = start(b -> b.macros("connect", "j", "{daemon_name}"))) {
            Run run = run(withSpec(milter));
            assertEquals(0, run.exit(), run.output());
            assertEquals("status: pass\nelapsed-time: XXX seconds\n", run.output());
            milter.awaitLine("EVENT close", WAIT);
            assertEquals(List.of(
                    "connect mx.example.net 2 ('192.168.123.123', 50443)",
                    "helo delian",
                    "envfrom <sender@example.com>",
                    "envrcpt <receiver@example.org>",
                    "data",
                    "header From=\"<sender@example.com>\"",
                    "header To=\"<receiver@example.org>\"",
                    "eoh",
                    "body 71",
                    "eom",
                    "close"), milter.events().subList(1, milter.events().size()));
            milter.awaitLine("MACRO connect j=mail.example.com", WAIT);
            milter.awaitLine("MACRO connect {daemon_name}=milter-test-server", WAIT);
        }
    }

    static Stream<Arguments> modifications() {
        return Stream.of(
                Arguments.of(new String[] {"chgfrom", "sender+changed@example.com"},
                        "Envelope:------------------------------\n"
                                + "- MAIL FROM:<sender@example.com>\n"
                                + "+ MAIL FROM:<sender+changed@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "  To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"addrcpt", "receiver+added@example.org"},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "+ RCPT TO:<receiver+added@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "  To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"delrcpt", "<receiver@example.org>"},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "- RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "  To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"addheader", "X-Test-Header1", "TestHeader1Value"},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "  To: <receiver@example.org>\n"
                                + "+ X-Test-Header1: TestHeader1Value\n" + BODY),
                Arguments.of(new String[] {"insheader", "1", "To", "<receiver+added@example.org>"},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "+ To: <receiver+added@example.org>\n"
                                + "  To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"chgheader", "To", "1", "<receiver+changed@example.org>"},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "+ To: <receiver+changed@example.org>\n"
                                + "- To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"chgheader", "To", "1", ""},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "- To: <receiver@example.org>\n" + BODY),
                Arguments.of(new String[] {"replacebody", "This is the replaced message."},
                        "Envelope:------------------------------\n"
                                + "  MAIL FROM:<sender@example.com>\n"
                                + "  RCPT TO:<receiver@example.org>\n"
                                + "Header:--------------------------------\n"
                                + "  From: <sender@example.com>\n"
                                + "  To: <receiver@example.org>\n"
                                + "Body:----------------------------------\n"
                                + "This is the replaced message.\n"));
    }

    @ParameterizedTest
    @MethodSource("modifications")
    void outputMessageShowsEachModification(String[] operation, String expectedMessage) {
        try (PythonMilter milter = start(b -> b.eom(operation[0],
                java.util.Arrays.copyOfRange(operation, 1, operation.length)))) {
            Run run = run(withSpec(milter, "--output-message"));
            assertEquals(0, run.exit(), run.output());
            assertEquals("status: pass\nelapsed-time: XXX seconds\n\n" + expectedMessage, run.output());
        }
    }

    @Test
    void quarantineIsTheStatusAndItsReasonIsShown() {
        try (PythonMilter milter = start(b -> b.eom("quarantine", "Virus is found."))) {
            Run run = run(withSpec(milter));
            assertEquals(0, run.exit(), run.output());
            assertEquals("status: quarantine\nelapsed-time: XXX seconds\nQuarantine reason: <Virus is found.>\n",
                    run.output());
        }
    }

    @Test
    void replyCodeIsShownWithTheStatus() {
        try (PythonMilter milter = start(b -> b.reply("helo", "reply", "554", "5.7.1", "go away"))) {
            Run run = run(withSpec(milter));
            assertEquals(0, run.exit(), "a verdict is not a failure of the tool");
            assertEquals("status: reject [554]<5.7.1>(go away)\nelapsed-time: XXX seconds\n", run.output());
            milter.awaitLine("EVENT close", WAIT);
            assertTrue(milter.events().stream().noneMatch(e -> e.startsWith("envfrom")), milter.events().toString());
        }
    }

    @Test
    void refusedRecipientIsDroppedWhileAnotherRemains() {
        try (PythonMilter milter = start(b -> b.reply("envrcpt#1", "reject"))) {
            Run run = run(withSpec(milter, "-r", "recipient1@example.com", "-r", "recipient2@example.com",
                    "--output-message"));
            assertEquals(0, run.exit(), run.output());
            assertTrue(run.output().startsWith("status: pass\n"), run.output());
            assertTrue(run.output().contains("- RCPT TO:<recipient1@example.com>\n"
                    + "+ RCPT TO:<recipient2@example.com>\n"), run.output());
        }
        try (PythonMilter milter = start(b -> b.reply("envrcpt#1", "reject").reply("envrcpt#2", "tempfail"))) {
            Run run = run(withSpec(milter, "-r", "recipient1@example.com", "-r", "recipient2@example.com"));
            assertEquals("status: temporary-failure\nelapsed-time: XXX seconds\n", run.output());
        }
    }

    @Test
    void acceptDiscardAndVersion2() {
        try (PythonMilter milter = start(b -> b.reply("helo@1", "accept").reply("envfrom@1", "discard"))) {
            assertEquals("status: accept\nelapsed-time: XXX seconds\n", run(withSpec(milter)).output());
            assertEquals("status: discard\nelapsed-time: XXX seconds\n", run(withSpec(milter)).output());
            Run version2 = run(withSpec(milter, "--negotiate-version", "2", "--unknown", "HELP"));
            assertEquals("status: pass\nelapsed-time: XXX seconds\n", version2.output());
            milter.awaitCount("EVENT close", 3, WAIT);
            assertTrue(milter.events().stream().noneMatch(e -> e.startsWith("unknown")), milter.events().toString());
        }
    }

    @Test
    void macrosAndMessageOptionsReachTheMilter(@TempDir Path directory) throws IOException {
        Path mail = directory.resolve("test.mail");
        Files.writeString(mail, "From: <test-from@example.com>\nTo: Test <test-to@example.com>\nSubject: hi\n\n"
                + "Message body\n", StandardCharsets.ISO_8859_1);
        try (PythonMilter milter = start(b -> b.macros("connect", "{daemon_name}", "{custom}")
                .macros("envfrom", "{auth_authen}", "{mail_addr}")
                .macros("envrcpt", "{rcpt_addr}"))) {
            Run run = run(withSpec(milter, "--connect-macro", "daemon_name:custom-mta", "--connect-macro",
                    "custom:1", "--authenticated-name", "alice", "--mail-file", mail.toString(),
                    "--helo-fqdn", "client.example.net", "--connect-host", "test-host",
                    "--connect-address", "inet:12345@[192.0.2.1]", "--header", "X-Extra:value"));
            assertEquals(0, run.exit(), run.output());
            milter.awaitLine("EVENT close", WAIT);
            List<String> events = milter.events();
            assertTrue(events.contains("connect test-host 2 ('192.0.2.1', 12345)"), events.toString());
            assertTrue(events.contains("helo client.example.net"), events.toString());
            assertTrue(events.contains("envfrom <test-from@example.com>"), events.toString());
            assertTrue(events.contains("envrcpt <test-to@example.com>"), events.toString());
            assertTrue(events.contains("header X-Extra=\"value\""), events.toString());
            assertTrue(events.contains("header Subject=\"hi\""), events.toString());
            assertTrue(events.contains("body 13"), events.toString());
            milter.awaitLine("MACRO connect {daemon_name}=custom-mta", WAIT);
            milter.awaitLine("MACRO connect {custom}=1", WAIT);
            milter.awaitLine("MACRO envfrom {auth_authen}=alice", WAIT);
            milter.awaitLine("MACRO envfrom {mail_addr}=mail_addr", WAIT);
            milter.awaitLine("MACRO envrcpt {rcpt_addr}=<test-to@example.com>", WAIT);
        }
    }

    @Test
    void unreachableMilterIsAFailure() throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Run run = run("-s", "inet:" + port + "@127.0.0.1");
        assertEquals(1, run.exit());
        assertTrue(run.output().startsWith("Failed to connect to inet:" + port + "@[127.0.0.1]: "), run.output());
    }

    @Test
    void silentMilterIsAReadingTimeout() throws Exception {
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(6, ActionFlags.ALL, 0);
            peer.drain();
        })) {
            Run run = run("-s", milter.spec().toString(), "--reading-timeout", "0.2");
            assertEquals(1, run.exit());
            assertEquals("reading timeout\n", run.output());
        }
    }

    @Test
    void badOptionsAreReported() {
        Run header = run("-s", "inet:1@127.0.0.1", "--header", "no-colon");
        assertEquals(1, header.exit());
        assertEquals("headers option should be 'NAME:VALUE'\n", header.output());
        Run macro = run("-s", "inet:1@127.0.0.1", "--connect-macro", "nocolon");
        assertEquals(1, macro.exit());
        assertEquals("macro name and value delimiter ':' doesn't exist: <nocolon>\n", macro.output());
        Run spec = run("-s", "tcp:1");
        assertEquals(1, spec.exit());
        assertTrue(spec.output().startsWith("invalid connection spec: <tcp:1>"), spec.output());
        assertEquals(1, run("--no-such-option").exit());
    }

    @Test
    void loadModeCountsVerdictsAndFailsOnUnexpectedOnes() {
        try (PythonMilter milter = start(b -> b.reply("helo@3", "reject"))) {
            Run run = run(withSpec(milter, "--n-sessions", "12", "--concurrency", "4", "--event-loop-threads", "2",
                    "--expected-status", "pass,reject"));
            assertEquals(0, run.exit(), run.output());
            assertTrue(run.output().startsWith("sessions: 12\nconcurrency: 4\nelapsed-time: XXX seconds\n"),
                    run.output());
            assertTrue(run.output().contains("\nstatus: pass=11 reject=1\nerrors: 0\n"), run.output());
            assertTrue(run.output().matches("(?s).*\nsessions/s: [0-9.]+\nlatency: p50=[0-9.]+ ms p99=[0-9.]+ ms"
                    + " max=[0-9.]+ ms\n.*"), run.output());
            Run strict = run(withSpec(milter, "--n-sessions", "3", "--concurrency", "3"));
            assertEquals(0, strict.exit(), strict.output());
        }
        Run failing = run("-s", "unix:/nonexistent/milter.sock", "--n-sessions", "2", "--concurrency", "2");
        assertEquals(1, failing.exit(), failing.output());
        assertTrue(failing.output().contains("errors: 2\nerror: Failed to connect to unix:/nonexistent/milter.sock:"
                + " No such file or directory (2)\n"), failing.output());
        try (PythonMilter milter = start(b -> b.reply("helo", "reject"))) {
            Run unexpected = run(withSpec(milter, "--n-sessions", "2", "--concurrency", "1"));
            assertEquals(1, unexpected.exit(), unexpected.output());
            assertTrue(unexpected.output().contains("status: reject=2\n"), unexpected.output());
        }
    }

    @Test
    void threadsRunSessionsAtOnceAndPrintEach() {
        try (PythonMilter milter = start(b -> { })) {
            Run run = run(withSpec(milter, "--threads", "3"));
            assertEquals(0, run.exit(), run.output());
            assertEquals("status: pass\nelapsed-time: XXX seconds\n".repeat(3), run.output());
        }
    }
}
