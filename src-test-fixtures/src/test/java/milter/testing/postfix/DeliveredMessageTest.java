package milter.testing.postfix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeliveredMessageTest {
    private static final String STORED = "Return-Path: <sender@example.org>\n"
            + "Delivered-To: alice@example.com\n"
            + "Received: from client.example.org (unknown [127.0.0.1])\n"
            + "\tby mx.example.com (Postfix) with ESMTP id 1;\n"
            + "\tWed, 25 Nov 2026 02:37:21 +0000 (UTC)\n"
            + "Subject:  two  blanks\n"
            + "X-Test: yes\n"
            + "x-test: again\n"
            + "\n"
            + "line one\n"
            + "\n"
            + "caf\u00e9\n";

    private final DeliveredMessage message = DeliveredMessage.parse(STORED.getBytes(StandardCharsets.ISO_8859_1));

    @Test
    void headersAreParsedInOrderAndUnfolded() {
        assertEquals(6, message.headers().size());
        assertEquals("alice@example.com", message.deliveredTo());
        assertEquals("from client.example.org (unknown [127.0.0.1])\tby mx.example.com (Postfix) with ESMTP id 1;"
                + "\tWed, 25 Nov 2026 02:37:21 +0000 (UTC)", message.header("received"));
        assertEquals("two  blanks", message.header("Subject"));
        assertEquals(List.of("yes", "again"), message.headerValues("X-TEST"));
        assertNull(message.header("Cc"));
    }

    @Test
    void bodyComesBackWithSmtpLineEnds() {
        assertArrayEquals("line one\r\n\r\ncaf\u00e9\r\n".getBytes(StandardCharsets.ISO_8859_1), message.body());
        assertArrayEquals("line one\n\ncaf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1), message.storedBody());
        assertArrayEquals(STORED.getBytes(StandardCharsets.ISO_8859_1), message.raw());
    }

    @Test
    void messageWithoutBodyHasEmptyBody() {
        DeliveredMessage headerOnly = DeliveredMessage.parse("Subject: x\n".getBytes(StandardCharsets.ISO_8859_1));

        assertEquals("x", headerOnly.header("Subject"));
        assertEquals(0, headerOnly.body().length);
    }
}
