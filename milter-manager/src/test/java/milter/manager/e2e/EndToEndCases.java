package milter.manager.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import milter.testing.filters.SpamAssassin;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.smtp.SmtpClient;
import milter.testing.smtp.SmtpReply;
import milter.testing.smtp.SmtpTransaction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end-to-end cases, run against one kind of mail system per subclass: Postfix or Sendmail, in front of milter
 * manager or chaining the same children itself. Every case prints one result line (see {@link Results}).
 *
 * <p>Mail from 127.0.0.1 is "local" (opendkim signs it; milter manager's Remote Network condition keeps it away
 * from spamass-milter), mail from 127.0.0.2 is "remote". Each case uses its own recipient, so counts do not mix;
 * "exactly once" is checked after a marker mail sent afterwards on the same path has arrived.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(SharedChildren.class)
abstract class EndToEndCases {
    static final String LOCAL = "127.0.0.1";
    static final String REMOTE = "127.0.0.2";
    private static final String MARKER = "marker";

    /** Set by {@link SharedChildren} before {@link #startSystems()}. */
    Children children;
    MailSystem full;
    MailSystem faulty;

    /** Starts the MTA (and the manager, if any) for a chain of children. */
    abstract MailSystem open(Chain chain, Children children) throws Exception;

    @BeforeAll
    void startSystems() throws Exception {
        full = open(Chain.FULL, children);
        faulty = open(Chain.FAULTY, children);
    }

    @AfterAll
    void stopSystems() throws IOException {
        try {
            if (full != null) {
                full.close();
            }
        } finally {
            if (faulty != null) {
                faulty.close();
            }
        }
    }

    boolean viaManager() {
        return full.manager() != null;
    }

    // ---------------------------------------------------------------------------------------------- cases

    @Test
    void normalMailIsDeliveredOnceSignedWithEveryChildsHeaders() throws Exception {
        String rcpt = "normal@example.com";
        byte[] mail = Mails.message(rcpt, "normal", "Hello,\r\nthis is an ordinary message.\r\n");
        SmtpTransaction sent = send(full, LOCAL, List.of(rcpt), mail);
        assertEquals(250, sent.data().code(), () -> sent + "\n" + full.diagnostics());
        DeliveredMessage delivered = deliveredOnce(full, rcpt, "normal");

        String signature = delivered.header("DKIM-Signature");
        assertNotNull(signature, () -> "not signed:\n" + show(delivered) + diagnostics(full));
        assertTrue(signature.contains("d=" + Children.DKIM_DOMAIN) && signature.contains("s="
                + Children.DKIM_SELECTOR), signature);
        assertEquals("seen", delivered.header(Children.LIBMILTER_HEADER), () -> show(delivered));
        List<String> added = Mails.addedHeaders(delivered, mail);
        assertEquals(expectedNormalHeaders(), Mails.headerNames(delivered), () -> show(delivered)
                + diagnostics(full));
        String results = delivered.header("Authentication-Results");
        Results.report(full, "normal mail", "delivered 1x, DKIM-signed d=" + Children.DKIM_DOMAIN
                + ", children's headers " + added
                + (results == null ? "" : ", " + summary(results)));
    }

    /**
     * The header fields of delivered local mail, top to bottom, without the delivery agent's trace fields: where
     * each child's fields end up. The message sent has From, To, Subject, Date, Message-ID, MIME-Version and
     * Content-Type; the MTA adds Received.
     */
    abstract List<String> expectedNormalHeaders();

    @Test
    void signedMailVerifiesWhenItComesBack() throws Exception {
        String first = "signed@example.com";
        byte[] mail = Mails.message(first, "signed", "Signed here, verified on the way back.\r\n");
        assertEquals(250, send(full, LOCAL, List.of(first), mail).data().code());
        DeliveredMessage signed = full.awaitDeliveredTo(first, 1).get(0);
        assertNotNull(signed.header("DKIM-Signature"), () -> show(signed));

        String again = "verify@example.com";
        SmtpTransaction resent = send(full, REMOTE, List.of(again), Mails.resubmittable(signed));
        assertEquals(250, resent.data().code(), () -> resent + "\n" + diagnostics(full));
        DeliveredMessage verified = deliveredOnce(full, again, "signed");
        String results = String.join(" / ", verified.headerValues("Authentication-Results"));
        assertTrue(results.contains("dkim=pass") && results.contains("header.d=" + Children.DKIM_DOMAIN),
                () -> "not verified:\n" + show(verified) + diagnostics(full));
        Results.report(full, "DKIM verification", "signed copy sent back from a remote client: " + summary(results));
    }

    @Test
    void gtubeMailIsRejectedByRspamd() throws Exception {
        String rcpt = "gtube@example.com";
        byte[] mail = Mails.message(rcpt, "gtube", "This is the GTUBE test.\r\n" + SpamAssassin.GTUBE
                + "\r\nEnd of test.\r\n");
        SmtpTransaction sent = send(full, REMOTE, List.of(rcpt), mail);
        assertEquals(milter.testing.filters.Rspamd.REJECT_REPLY, sent.data().toString(),
                () -> sent + "\n" + diagnostics(full));
        assertEquals(List.of(), settle(full, rcpt));
        Results.report(full, "GTUBE (reject pattern)", "DATA answered \"" + sent.data() + "\", nothing delivered");
    }

    @Test
    void spamMailIsMarkedBySpamAssassinAndRspamd() throws Exception {
        String rcpt = "spam@example.com";
        byte[] mail = Mails.message(rcpt, "spam", "This is rspamd's add-header test.\r\n"
                + SpamAssassin.RSPAMD_ADD_HEADER_GTUBE + "\r\nEnd of test.\r\n");
        SmtpTransaction sent = send(full, REMOTE, List.of(rcpt), mail);
        assertEquals(250, sent.data().code(), () -> sent + "\n" + diagnostics(full));
        DeliveredMessage delivered = deliveredOnce(full, rcpt, "spam");
        assertEquals("YES", delivered.header("X-Spam-Flag"), () -> show(delivered) + diagnostics(full));
        assertEquals("Yes", delivered.header("X-Spam"), () -> show(delivered) + diagnostics(full));
        Results.report(full, "GTUBE (add-header pattern)", "delivered 1x, X-Spam-Flag: YES (spamass-milter), "
                + "X-Spam: Yes (rspamd), added " + Mails.addedHeaders(delivered, mail));
    }

    @Test
    void recipientRejectionPassesThroughWithTheChildsText() throws Exception {
        String rcpt = "accepted@example.com";
        byte[] mail = Mails.message(rcpt, "recipients", "One recipient is refused.\r\n");
        SmtpTransaction sent = send(full, LOCAL, List.of(rcpt, Children.REFUSED_RECIPIENT), mail);
        assertEquals(250, sent.recipients().get(0).code(), sent::toString);
        SmtpReply refusal = sent.recipients().get(1);
        // Sendmail puts the address before the milter's text ("550 5.7.1 <refused@example.com>... Recipient
        // refused by policy"); Postfix passes the text as it is.
        assertTrue(refusal.code() == 550 && refusal.lastLine().startsWith("5.7.1 ")
                && refusal.lastLine().endsWith(Children.REFUSAL_TEXT), () -> sent + "\n" + diagnostics(full));
        assertEquals(250, sent.data().code(), sent::toString);
        deliveredOnce(full, rcpt, "recipients");
        assertTrue(full.mailbox().messages().stream()
                .noneMatch(m -> Children.REFUSED_RECIPIENT.equalsIgnoreCase(m.deliveredTo())), "refused got mail");
        Results.report(full, "per-recipient rejection", "RCPT answered \"" + sent.recipients().get(1)
                + "\", other recipient delivered 1x");
    }

    @Test
    void deadChildWithAcceptFallbackDoesNotBlockMail() throws Exception {
        String rcpt = "dead@example.com";
        byte[] mail = Mails.message(rcpt, "dead child", "A child is down.\r\n");
        SmtpTransaction sent = send(full, LOCAL, List.of(rcpt), mail);
        assertEquals(250, sent.data().code(), () -> sent + "\n" + diagnostics(full));
        DeliveredMessage delivered = deliveredOnce(full, rcpt, "dead child");
        assertEquals("seen", delivered.header(Children.LIBMILTER_HEADER), () -> show(delivered));
        String note = "";
        if (viaManager()) {
            String line = full.manager().awaitLog(java.util.regex.Pattern.compile(
                    "\\[children\\]\\[error\\]\\[connection\\].*:" + children.dead.port() + "\\b.*: dead$")).group();
            note = ", manager logged: " + line.substring(line.indexOf('['));
        }
        Results.report(full, "dead child (accept on failure)", "delivered 1x with the other children's headers"
                + note);
    }

    @Test
    void hangingChildHitsItsTimeoutAndMailStillFlows() throws Exception {
        String rcpt = "hang@example.com";
        byte[] mail = Mails.message(rcpt, "hanging child", "A child never answers end of message.\r\n");
        long start = System.nanoTime();
        SmtpTransaction sent = send(faulty, LOCAL, List.of(rcpt), mail);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(250, sent.data().code(), () -> sent + "\n" + diagnostics(faulty));
        DeliveredMessage delivered = deliveredOnce(faulty, rcpt, "hanging child");
        children.hanging.awaitLine(line -> line.equals("EVENT eom"), Duration.ofSeconds(30));
        String libmilter = delivered.header(Children.LIBMILTER_HEADER);
        String timeout = "";
        if (viaManager()) {
            String line = faulty.manager().awaitLog(java.util.regex.Pattern.compile(
                    "\\[children\\]\\[timeout\\]\\[[^ ]*")).group();
            timeout = ", manager logged " + line;
        }
        Results.report(faulty, "hanging child (" + Chain.HANG_TIMEOUT_SECONDS + " s timeout)",
                "delivered 1x, transaction took " + millis + " ms, earlier child's header "
                        + (libmilter == null ? "dropped" : "kept") + timeout);
    }

    @Test
    void threeMegabyteMailArrivesByteIdentical() throws Exception {
        String rcpt = "large@example.com";
        byte[] body = Mails.largeBody(3 * 1024 * 1024);
        byte[] mail = Mails.message(rcpt, "large", new String(body, StandardCharsets.ISO_8859_1));
        SmtpTransaction sent = send(full, REMOTE, List.of(rcpt), mail);
        assertEquals(250, sent.data().code(), () -> sent + "\n" + diagnostics(full));
        DeliveredMessage delivered = deliveredOnce(full, rcpt, "large");
        assertEquals(body.length, delivered.body().length, "body length");
        assertArrayEquals(body, delivered.body(), "body bytes");
        Results.report(full, "3 MB mail", "delivered 1x, body " + body.length + " bytes byte-identical, added "
                + Mails.addedHeaders(delivered, mail));
    }

    @Test
    void twoHundredMailsOverTenConnectionsAreEachDeliveredOnce() throws Exception {
        String rcpt = "bulk@example.com";
        int connections = 10;
        int perConnection = 20;
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < connections; c++) {
                int connection = c;
                results.add(pool.submit(() -> {
                    List<String> refused = new ArrayList<>();
                    try (SmtpClient smtp = full.connect(LOCAL)) {
                        smtp.ehlo("client.example.org");
                        for (int i = 0; i < perConnection; i++) {
                            String subject = "bulk " + (connection * perConnection + i);
                            SmtpTransaction t = smtp.send(Mails.SENDER, List.of(rcpt),
                                    Mails.message(rcpt, subject, "Message " + subject + ".\r\n"));
                            if (t.data() == null || t.data().code() != 250) {
                                refused.add(subject + ": " + t);
                            }
                        }
                        smtp.quit();
                    }
                    return refused;
                }));
            }
            List<String> refused = new ArrayList<>();
            for (Future<List<String>> result : results) {
                refused.addAll(result.get(10, TimeUnit.MINUTES));
            }
            assertEquals(List.of(), refused, () -> diagnostics(full));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(1, TimeUnit.MINUTES));
        }
        int total = connections * perConnection;
        List<DeliveredMessage> delivered = full.awaitDeliveredTo(rcpt, total);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        List<DeliveredMessage> all = settle(full, rcpt);
        Map<String, Integer> counts = new TreeMap<>();
        for (DeliveredMessage message : all) {
            counts.merge(message.header("Subject"), 1, Integer::sum);
        }
        assertEquals(total, counts.size(), () -> "distinct subjects: " + counts.keySet());
        assertEquals(Collections.singleton(1), new java.util.HashSet<>(counts.values()), counts::toString);
        assertTrue(delivered.stream().allMatch(m -> m.header("DKIM-Signature") != null), "every copy signed");
        Results.report(full, "200 mails / 10 connections", all.size() + " delivered, each exactly once, all signed, "
                + millis + " ms from first connect to last delivery");
    }

    @Test
    void remoteNetworkConditionDecidesWhoseMailSpamAssassinSees() throws Exception {
        String local = "from-local@example.com";
        String remote = "from-remote@example.com";
        assertEquals(250, send(full, LOCAL, List.of(local), Mails.message(local, "local", "From inside.\r\n"))
                .data().code());
        assertEquals(250, send(full, REMOTE, List.of(remote), Mails.message(remote, "remote", "From outside.\r\n"))
                .data().code());
        DeliveredMessage fromLocal = deliveredOnce(full, local, "local");
        DeliveredMessage fromRemote = deliveredOnce(full, remote, "remote");
        assertNotNull(fromRemote.header("X-Spam-Status"), () -> show(fromRemote) + diagnostics(full));
        if (viaManager()) {
            assertAbsent(fromLocal, "X-Spam-Status");
        } else {
            assertNotNull(fromLocal.header("X-Spam-Status"), () -> show(fromLocal));
        }
        Results.report(full, "Remote Network condition", "spamass-milter headers on mail from 127.0.0.1: "
                + (fromLocal.header("X-Spam-Status") == null ? "none (child skipped)" : "yes")
                + ", from 127.0.0.2: yes");
    }

    // ---------------------------------------------------------------------------------------------- helpers

    static SmtpTransaction send(MailSystem system, String client, List<String> recipients, byte[] mail)
            throws IOException {
        try (SmtpClient smtp = system.connect(client)) {
            SmtpReply ehlo = smtp.ehlo(client.equals(LOCAL) ? "client.example.org" : "remote.example.net");
            assertEquals(250, ehlo.code(), ehlo::toString);
            SmtpTransaction transaction = smtp.send(Mails.SENDER, recipients, mail);
            smtp.quit();
            return transaction;
        }
    }

    /**
     * Waits for the one copy of {@code subject} to {@code rcpt}, then checks no second one arrives before a marker
     * mail sent afterwards.
     */
    static DeliveredMessage deliveredOnce(MailSystem system, String rcpt, String subject) throws IOException {
        system.awaitDeliveredTo(rcpt, 1);
        List<DeliveredMessage> copies = new ArrayList<>();
        for (DeliveredMessage message : settle(system, rcpt)) {
            if (subject.equals(message.header("Subject"))) {
                copies.add(message);
            }
        }
        assertEquals(1, copies.size(), () -> "copies of \"" + subject + "\" to " + rcpt + ": " + copies);
        return copies.get(0);
    }

    /**
     * Sends a marker mail to {@code rcpt} after everything else and waits for it; returns the other messages
     * delivered to {@code rcpt} by then.
     */
    static List<DeliveredMessage> settle(MailSystem system, String rcpt) throws IOException {
        SmtpTransaction marker = send(system, LOCAL, List.of(rcpt), Mails.message(rcpt, MARKER, "marker\r\n"));
        if (marker.data() == null || marker.data().code() != 250) {
            fail("marker mail refused: " + marker + "\n" + system.diagnostics());
        }
        try {
            system.mailbox().awaitMatching(m -> rcpt.equalsIgnoreCase(m.deliveredTo())
                    && MARKER.equals(m.header("Subject")), 1, MailSystem.DELIVERY_TIMEOUT, "the marker to " + rcpt);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + system.diagnostics(), e);
        }
        List<DeliveredMessage> others = new ArrayList<>();
        for (DeliveredMessage message : system.mailbox().messages()) {
            if (rcpt.equalsIgnoreCase(message.deliveredTo()) && !MARKER.equals(message.header("Subject"))) {
                others.add(message);
            }
        }
        return others;
    }

    /** The header section of a delivered message, for failure messages. */
    static String show(DeliveredMessage message) {
        String raw = new String(message.raw(), StandardCharsets.ISO_8859_1);
        int end = raw.indexOf("\n\n");
        return message + "\n" + (end < 0 ? raw : raw.substring(0, end)) + "\n";
    }

    static String summary(String authenticationResults) {
        String value = authenticationResults.replaceAll("\\s+", " ");
        return "Authentication-Results: " + value.replaceAll(" header\\.b=\"?[^;\" ]*\"?", "").trim();
    }

    String diagnostics(MailSystem system) {
        return system.diagnostics() + "\n" + children.diagnostics();
    }

    static void assertAbsent(DeliveredMessage message, String header) {
        assertNull(message.header(header), () -> header + " present:\n" + message);
    }
}
