package milter.manager.e2e;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import milter.testing.postfix.DeliveredMessage;

/** Messages the cases send, and what to look at in delivered ones. */
final class Mails {
    static final String SENDER = "sender@example.org";
    /** Header fields the MTA or its delivery agent adds; everything else new in a delivered copy came from a child. */
    private static final Set<String> TRACE = Set.of("return-path", "x-original-to", "delivered-to", "received");

    private Mails() {
    }

    /** A plain message with Date and Message-ID, so neither MTA adds its own. */
    static byte[] message(String to, String subject, String body) {
        String text = "From: Sender <" + SENDER + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: " + subject + "\r\n"
                + "Date: Tue, 24 Nov 2026 12:00:00 +0000\r\n"
                + "Message-ID: <" + UUID.randomUUID() + "@example.org>\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n"
                + body;
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The names of a delivered copy's header fields, without the delivery agent's (Return-Path ... Delivered-To). */
    static List<String> headerNames(DeliveredMessage delivered) {
        List<String> names = new ArrayList<>();
        for (DeliveredMessage.Header header : delivered.headers()) {
            String name = header.name().toLowerCase(java.util.Locale.ROOT);
            if (!name.equals("return-path") && !name.equals("x-original-to") && !name.equals("delivered-to")) {
                names.add(header.name());
            }
        }
        return names;
    }

    /** Names of the header fields a delivered copy has beyond {@code sent}'s and the MTA's trace fields, in order. */
    static List<String> addedHeaders(DeliveredMessage delivered, byte[] sent) {
        // Parsed as stored (LF line ends), so values compare equal.
        DeliveredMessage original = DeliveredMessage.parse(new String(sent, StandardCharsets.ISO_8859_1)
                .replace("\r\n", "\n").getBytes(StandardCharsets.ISO_8859_1));
        List<DeliveredMessage.Header> left = new ArrayList<>(original.headers());
        List<String> added = new ArrayList<>();
        for (DeliveredMessage.Header header : delivered.headers()) {
            if (TRACE.contains(header.name().toLowerCase(java.util.Locale.ROOT))) {
                continue;
            }
            if (!left.remove(header)) {
                added.add(header.name());
            }
        }
        return added;
    }

    /**
     * About {@code size} bytes of body: 76-character lines of varied printable text, every tenth starting with a
     * dot (dot-stuffing) and some with trailing blanks, ending in CRLF.
     */
    static byte[] largeBody(int size) {
        Random random = new Random(20261124L);
        StringBuilder body = new StringBuilder(size + 100);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_.,;:!?()<> ";
        int line = 0;
        while (body.length() < size) {
            if (line % 10 == 0) {
                body.append('.');
            }
            for (int i = 0; i < 75; i++) {
                body.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            if (line % 7 == 0) {
                body.append("  ");
            }
            body.append("\r\n");
            line++;
        }
        return body.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** The delivered copy as it would be submitted again: without the delivery agent's leading trace fields. */
    static byte[] resubmittable(DeliveredMessage delivered) {
        String raw = new String(delivered.raw(), StandardCharsets.ISO_8859_1);
        String[] leading = {"Delivered-To:", "Return-Path:", "X-Original-To:"};
        boolean stripped = true;
        while (stripped) {
            stripped = false;
            for (String name : leading) {
                if (raw.regionMatches(true, 0, name, 0, name.length())) {
                    raw = raw.substring(raw.indexOf('\n') + 1);
                    stripped = true;
                }
            }
        }
        return raw.getBytes(StandardCharsets.ISO_8859_1);
    }
}
