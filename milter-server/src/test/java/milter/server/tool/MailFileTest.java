package milter.server.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class MailFileTest {
    private static MailFile parse(String text) {
        return MailFile.parse(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void headersBodyAndEnvelopeFromAnLfFile() {
        MailFile mail = parse("From xxxx@example.com Wed Nov  5 11:41:54 2008\n"
                + "Return-Path: <xxxx@example.com>\n"
                + "To: Test Sender <test-to@example.com>\n"
                + "From: test-from@example.com\n"
                + "X-Source: \n"
                + "List-Archive:\n <http://example.com/archive>\n"
                + "Authentication-Results: mail.example.com;\n\tspf=none;\n\tdkim=none\n"
                + "Subject: This is a test mail\n"
                + "\n"
                + "Message body\nMessage body\nMessage body\n");
        assertEquals(List.of(
                new TestMessage.Header("Return-Path", "<xxxx@example.com>"),
                new TestMessage.Header("To", "Test Sender <test-to@example.com>"),
                new TestMessage.Header("From", "test-from@example.com"),
                new TestMessage.Header("X-Source", ""),
                new TestMessage.Header("List-Archive", "\n <http://example.com/archive>"),
                new TestMessage.Header("Authentication-Results", "mail.example.com;\n\tspf=none;\n\tdkim=none"),
                new TestMessage.Header("Subject", "This is a test mail")), mail.headers());
        assertEquals("<test-from@example.com>", mail.envelopeFrom());
        assertEquals(List.of("<test-to@example.com>"), mail.recipients());
        assertEquals(List.of("Message body\nMessage body\nMessage body\n"), mail.bodyChunks());
    }

    @Test
    void crlfFileKeepsItsLineEnds() {
        MailFile mail = parse("To: <a@example.org>\r\nSubject: folded\r\n more\r\n\r\nline 1\r\nline 2\r\n");
        assertEquals(new TestMessage.Header("Subject", "folded\r\n more"), mail.headers().get(1));
        assertEquals(List.of("line 1\r\nline 2\r\n"), mail.bodyChunks());
        assertEquals(List.of("<a@example.org>"), mail.recipients());
        assertEquals(null, mail.envelopeFrom());
    }

    @Test
    void largeBodyIsChunkedAtLineBoundariesBelow65536() {
        String line = "x".repeat(999);
        StringBuilder text = new StringBuilder("Subject: big\n\n");
        for (int i = 0; i < 200; i++) {
            text.append(line).append('\n');
        }
        MailFile mail = parse(text.toString());
        assertEquals(4, mail.bodyChunks().size());
        assertEquals(65000, mail.bodyChunks().get(0).length());
        assertEquals(200_000, mail.bodyChunks().stream().mapToInt(String::length).sum());
    }

    @Test
    void invalidHeaderLineIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("Subject: ok\n<not a header>\n\nbody\n"));
        assertEquals("invalid header: <<not a header>>", e.getMessage());
    }

    @Test
    void addressWithoutClosingBracketIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> parse("From: <broken@example.com\n\nbody\n"));
    }
}
