package milter.testing.smtp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SmtpClientTest {
    private static final String GREETING = "220 fake.example ESMTP\r\n";

    private static String postfixLike(String command) {
        if (command.startsWith("EHLO")) {
            return "250-fake.example\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n";
        }
        if (command.startsWith("RCPT TO:<nobody@")) {
            return "550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n";
        }
        if (command.equals("DATA")) {
            return "354 End data with <CR><LF>.<CR><LF>\r\n";
        }
        if (command.equals("QUIT")) {
            return "221 2.0.0 Bye\r\n";
        }
        return "250 2.1.0 Ok\r\n";
    }

    @Test
    void ehloRepliesAreMultiLineWithExtensions() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, SmtpClientTest::postfixLike);
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            assertEquals("220 fake.example ESMTP", client.greeting().toString());

            SmtpReply ehlo = client.ehlo("client.example.org");

            assertEquals(250, ehlo.code());
            assertEquals(List.of("fake.example", "SIZE 10240000", "8BITMIME", "SMTPUTF8"), ehlo.lines());
            assertEquals("250-fake.example\n250-SIZE 10240000\n250-8BITMIME\n250 SMTPUTF8", ehlo.toString());
            assertEquals(List.of("SIZE 10240000", "8BITMIME", "SMTPUTF8"), client.extensions());
            assertTrue(client.supports("size"));
            assertFalse(client.supports("CHUNKING"));
        }
    }

    @Test
    void transactionSendsEnvelopeWithParametersAndDotStuffedData() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, SmtpClientTest::postfixLike);
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            client.ehlo("client.example.org");
            assertEquals(250, client.mailFrom("a@example.org", "BODY=8BITMIME", "SIZE=42").code());
            SmtpReply accepted = client.rcptTo("alice@example.com", "NOTIFY=NEVER");
            SmtpReply refused = client.rcptTo("nobody@example.com");
            SmtpReply data = client.data("Subject: x\n\n.dot\nend".getBytes(StandardCharsets.ISO_8859_1));
            SmtpReply quit = client.quit();

            assertEquals(250, accepted.code());
            assertEquals("550 5.1.1 <nobody@example.com>: Recipient address rejected", refused.toString());
            assertTrue(refused.isPermanentFailure());
            assertEquals("250 2.0.0 Ok: queued", data.toString());
            assertEquals(221, quit.code());
            assertEquals(List.of("EHLO client.example.org", "MAIL FROM:<a@example.org> BODY=8BITMIME SIZE=42",
                    "RCPT TO:<alice@example.com> NOTIFY=NEVER", "RCPT TO:<nobody@example.com>", "DATA", "QUIT"),
                    server.commands());
            assertArrayEquals("Subject: x\r\n\r\n..dot\r\nend\r\n.\r\n".getBytes(StandardCharsets.ISO_8859_1),
                    server.data());
            assertEquals(8, client.replies().size(), "greeting, one per command, 354 and the final DATA reply");
        }
    }

    @Test
    void nullSenderIsSentAsEmptyPath() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, SmtpClientTest::postfixLike);
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            client.mailFrom("");
            client.rcptTo("<already@bracketed>");

            assertEquals(List.of("MAIL FROM:<>", "RCPT TO:<already@bracketed>"), server.commands());
        }
    }

    @Test
    void refusedDataSendsNoContent() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING,
                c -> c.equals("DATA") ? "554 5.5.1 Error: no valid recipients\r\n" : postfixLike(c));
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            SmtpTransaction transaction = client.send("a@example.org", List.of("nobody@example.com"),
                    "x".getBytes(StandardCharsets.ISO_8859_1));
            SmtpReply data = client.data("never sent".getBytes(StandardCharsets.ISO_8859_1));
            SmtpReply noop = client.noop();

            assertNull(transaction.data(), "no DATA without an accepted recipient");
            assertFalse(transaction.accepted());
            assertEquals(554, data.code());
            assertEquals("250 2.1.0 Ok", noop.toString(), "the content did not reach the server as commands");
            assertEquals(List.of("MAIL FROM:<a@example.org>", "RCPT TO:<nobody@example.com>", "DATA", "NOOP"),
                    server.commands());
        }
    }

    @Test
    void malformedReplyIsAProtocolError() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, c -> "25O not a code\r\n");
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            SmtpProtocolException e = assertThrows(SmtpProtocolException.class, client::noop);
            assertTrue(e.getMessage().contains("25O not a code"), e.getMessage());
        }
    }

    @Test
    void codeChangingWithinAReplyIsAProtocolError() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, c -> "250-first\r\n251 second\r\n");
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            assertThrows(SmtpProtocolException.class, client::noop);
        }
    }

    @Test
    void connectionClosedByServerIsAProtocolError() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, c -> null);
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            SmtpProtocolException e = assertThrows(SmtpProtocolException.class, client::noop);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void commandsMustBeSingleLines() throws Exception {
        try (FakeSmtpServer server = new FakeSmtpServer(GREETING, SmtpClientTest::postfixLike);
                SmtpClient client = SmtpClient.connect("127.0.0.1", server.port())) {
            assertThrows(IllegalArgumentException.class, () -> client.command("NOOP\r\nRSET"));
            assertEquals(250, client.noop().code());
            assertEquals(List.of("NOOP"), server.commands());
        }
    }

    @Test
    void replyWithoutTextPrintsBareCode() {
        assertEquals("250", new SmtpReply(250, List.of("")).toString());
        assertThrows(IllegalArgumentException.class, () -> new SmtpReply(99, List.of("x")));
    }
}
