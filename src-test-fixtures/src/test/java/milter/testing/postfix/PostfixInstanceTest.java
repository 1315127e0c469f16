package milter.testing.postfix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import milter.testing.smtp.SmtpClient;
import milter.testing.smtp.SmtpReply;
import milter.testing.smtp.SmtpTransaction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Runs real private Postfix instances: delivery, unreachable milters, a live milter, two at once, cleanup. */
class PostfixInstanceTest {
    private static final Duration LOG_WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final PostfixInstances postfix = new PostfixInstances();

    private static byte[] message(String subject, String body) {
        return ("From: sender@example.org\r\nTo: alice@example.com\r\nSubject: " + subject + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.ISO_8859_1);
    }

    private static SmtpTransaction send(PostfixInstance mta, String recipient, byte[] message) throws IOException {
        try (SmtpClient smtp = mta.openSmtp()) {
            assertEquals(220, smtp.greeting().code(), smtp.greeting().toString());
            assertEquals(250, smtp.ehlo("client.example.org").code());
            SmtpTransaction transaction = smtp.send("sender@example.org", List.of(recipient), message);
            smtp.quit();
            return transaction;
        }
    }

    @Test
    void deliversMailWithoutMilterWithTheBodyUnchanged() throws IOException {
        PostfixInstance mta = postfix.start();
        assertEquals(List.of(), mta.configurationWarnings(), "postconf warnings on the generated main.cf");
        String body = "first line\r\n.a line that starts with a dot\r\n..two dots\r\n\r\n"
                + "eight bit: caf\u00e9 \u00fc\u00df\r\ntrailing blanks   \r\nlast\r\n";

        SmtpTransaction transaction = send(mta, "alice@example.com", message("plain delivery", body));

        assertTrue(transaction.accepted(), transaction.toString());
        DeliveredMessage delivered = mta.awaitDeliveredTo("alice@example.com", 1).get(0);
        assertArrayEquals(body.getBytes(StandardCharsets.ISO_8859_1), delivered.body(), delivered.bodyText());
        assertEquals("plain delivery", delivered.header("Subject"));
        assertEquals("<sender@example.org>", delivered.header("Return-Path"));
        assertTrue(delivered.header("Received").contains("by mx.example.com (Postfix)"), delivered.header("Received"));
    }

    @Test
    void deliversThreeMegabyteMessageIntact() throws IOException {
        PostfixInstance mta = postfix.start();
        Random random = new Random(42);
        StringBuilder body = new StringBuilder();
        while (body.length() < 3 * 1024 * 1024) {
            int length = random.nextInt(120);
            for (int i = 0; i < length; i++) {
                body.append((char) ('!' + random.nextInt(94)));
            }
            body.append("\r\n");
        }

        SmtpTransaction transaction = send(mta, "bob@example.com", message("large", body.toString()));

        assertTrue(transaction.accepted(), transaction.toString());
        DeliveredMessage delivered = mta.awaitDeliveredTo("bob@example.com", 1).get(0);
        assertArrayEquals(body.toString().getBytes(StandardCharsets.ISO_8859_1), delivered.body());
    }

    @Test
    void unreachableMilterWithDefaultActionAcceptStillDelivers() throws IOException {
        int deadPort = unusedPort();
        PostfixInstance mta = postfix.start(PostfixInstance.builder()
                .smtpdMilters("inet:127.0.0.1:" + deadPort)
                .milterDefaultAction("accept"));

        SmtpTransaction transaction = send(mta, "alice@example.com", message("milter down", "hello\r\n"));

        assertTrue(transaction.accepted(), transaction.toString());
        assertEquals("milter down", mta.awaitDelivered(1).get(0).header("Subject"));
        mta.awaitLog("connect to Milter service inet:127.0.0.1:" + deadPort, LOG_WAIT);
    }

    @Test
    void unreachableMilterWithDefaultActionTempfailRefusesTheTransaction() throws IOException {
        int deadPort = unusedPort();
        PostfixInstance mta = postfix.start(PostfixInstance.builder()
                .smtpdMilters("inet:127.0.0.1:" + deadPort)
                .milterDefaultAction("tempfail"));
        assertEquals("tempfail", mta.parameter("milter_default_action"));

        SmtpTransaction transaction = send(mta, "alice@example.com", message("milter down", "hello\r\n"));

        // Postfix notes the failed milter at connect time and refuses the first transaction command.
        assertEquals("451 4.7.1 Service unavailable - try again later", transaction.mail().toString());
        assertFalse(transaction.accepted());
        mta.awaitLog("milter-reject: MAIL from", LOG_WAIT);
    }

    @Test
    void milterAddsHeaderAtEndOfMessage() throws Exception {
        try (MinimalMilter milter = MinimalMilter.addingHeader("X-Test", "yes")) {
            PostfixInstance mta = postfix.start(PostfixInstance.builder().smtpdMilters(milter.spec()));

            SmtpTransaction transaction = send(mta, "alice@example.com", message("through a milter", "hi\r\n"));

            assertTrue(transaction.accepted(), transaction.toString());
            DeliveredMessage delivered = mta.awaitDelivered(1).get(0);
            assertEquals("yes", delivered.header("X-Test"), delivered.headers().toString());
            assertEquals("hi\r\n", delivered.bodyText());
            assertTrue(milter.seen().containsAll(List.of("negotiate", "define-macro", "connect", "envelope-from",
                    "envelope-recipient", "header", "end-of-message")), milter.seen().toString());
            assertEquals(List.of(), milter.failures());
        }
    }

    @Test
    void milterReplyCodeRejectsRecipient() throws Exception {
        try (MinimalMilter milter = MinimalMilter.rejectingRecipients("550 5.7.1 No thanks")) {
            PostfixInstance mta = postfix.start(PostfixInstance.builder().smtpdMilters(milter.spec()));

            try (SmtpClient smtp = mta.openSmtp()) {
                smtp.ehlo("client.example.org");
                assertEquals(250, smtp.mailFrom("sender@example.org").code());
                SmtpReply rcpt = smtp.rcptTo("alice@example.com");
                assertEquals("550 5.7.1 No thanks", rcpt.toString());
                assertEquals(554, smtp.data(message("never", "x\r\n")).code(), "DATA without a valid recipient");
                assertEquals(221, smtp.quit().code());
            }
            assertEquals(List.of(), milter.failures());
        }
    }

    @Test
    void mailboxMapOverrideRefusesUnlistedRecipients() throws IOException {
        PostfixInstance mta = postfix.start(PostfixInstance.builder()
                .mainCf("virtual_mailbox_maps", "inline:{alice@example.com=inbox/}"));

        try (SmtpClient smtp = mta.openSmtp()) {
            smtp.ehlo("client.example.org");
            smtp.mailFrom("sender@example.org");
            assertEquals(250, smtp.rcptTo("alice@example.com").code());
            SmtpReply unknown = smtp.rcptTo("mallory@example.com");
            assertEquals("550 5.1.1 <mallory@example.com>: Recipient address rejected: User unknown in virtual "
                    + "mailbox table", unknown.toString());
            SmtpReply outside = smtp.rcptTo("someone@example.net");
            assertEquals(550, outside.code(), outside.toString());
            assertTrue(outside.text().contains("outbound mail is disabled"), outside.toString());
        }
    }

    @Test
    void twoInstancesRunAtOnceWithSeparatePortsAndMailboxes() throws IOException {
        PostfixInstance first = postfix.start();
        PostfixInstance second = postfix.start();
        assertNotEquals(first.smtpPort(), second.smtpPort());
        assertNotEquals(first.baseDirectory(), second.baseDirectory());

        assertTrue(send(first, "alice@example.com", message("to the first", "1\r\n")).accepted());
        assertTrue(send(second, "alice@example.com", message("to the second", "2\r\n")).accepted());

        List<DeliveredMessage> firstBox = first.awaitDelivered(1);
        List<DeliveredMessage> secondBox = second.awaitDelivered(1);
        assertEquals("to the first", firstBox.get(0).header("Subject"));
        assertEquals("to the second", secondBox.get(0).header("Subject"));
        assertEquals(1, first.mailbox().messages().size());
        assertEquals(1, second.mailbox().messages().size());
    }

    @Test
    void closeStopsEveryProcessAndRemovesTheDirectory() throws IOException {
        long beforeStart = System.nanoTime();
        PostfixInstance mta = PostfixInstance.start();
        long started = System.nanoTime();
        long masterPid;
        try {
            masterPid = mta.masterPid();
            assertTrue(mta.processes().stream().anyMatch(p -> p.pid() == masterPid), mta.processes().toString());
            assertTrue(send(mta, "alice@example.com", message("before stop", "x\r\n")).accepted());
            mta.awaitDelivered(1); // smtpd, cleanup, qmgr and virtual have run
            assertTrue(Files.isDirectory(mta.baseDirectory()));
        } finally {
            mta.close();
        }
        long stopped = System.nanoTime();
        System.out.printf("Postfix start %d ms (master to listening %d ms), stop %d ms%n",
                (started - beforeStart) / 1_000_000, mta.startupTime().toMillis(), (stopped - started) / 1_000_000);

        assertEquals(List.of(), SessionProcesses.of(masterPid), "processes left in the master's session");
        assertFalse(Files.exists(mta.baseDirectory()), "base directory left behind");
        assertTrue(mta.maillog().contains("daemon started"), mta.maillog());
        mta.close(); // idempotent
    }

    @Test
    void unknownParameterStartsButIsReportedByPostconf() throws IOException {
        PostfixInstance mta = postfix.start(PostfixInstance.builder().mainCf("no_such_parameter", "1"));

        assertEquals(1, mta.configurationWarnings().size(), mta.configurationWarnings().toString());
        assertTrue(mta.configurationWarnings().get(0).contains("unused parameter: no_such_parameter=1"));
        assertTrue(mta.diagnostics().contains("unused parameter: no_such_parameter=1"), mta.diagnostics());
    }

    @Test
    void failedStartupIsReportedAndLeavesNothingBehind(@TempDir Path parent) throws IOException {
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        PostfixInstance.Builder broken = PostfixInstance.builder()
                .parentDirectory(parent)
                .mainCf("queue_directory", parent.resolve("missing").toString());

        IOException failure = assertThrows(IOException.class, broken::start);

        assertTrue(failure.getMessage().contains("exited with status"), failure.getMessage());
        try (Stream<Path> left = Files.list(parent)) {
            assertEquals(List.of(), left.collect(Collectors.toList()), "base directory left behind");
        }
        assertEquals(List.of(), processesMentioning(parent.toString()), "processes left behind");
    }

    @Test
    void parentDirectoryTheDaemonsCannotReachIsRefused(@TempDir Path parent) throws IOException {
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwx------"));

        IOException failure = assertThrows(IOException.class,
                () -> PostfixInstance.builder().parentDirectory(parent).start());

        assertTrue(failure.getMessage().contains("not searchable"), failure.getMessage());
        try (Stream<Path> left = Files.list(parent)) {
            assertEquals(0, left.count());
        }
    }

    /** Live processes whose command line contains {@code text} (the master runs with -c BASE/etc). */
    private static List<Long> processesMentioning(String text) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(text)).orElse(false))
                .map(ProcessHandle::pid)
                .collect(Collectors.toList());
    }

    /** A loopback port nothing listens on (bound and released at once). */
    private static int unusedPort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return probe.getLocalPort();
        }
    }
}
