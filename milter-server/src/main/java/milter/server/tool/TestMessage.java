package milter.server.tool;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import milter.core.protocol.Reply;

/**
 * The message one test session sends, and what the milter's modifications make of it; printed as upstream's
 * {@code --output-message} does (unchanged lines with two spaces, removed with {@code -}, added with {@code +}).
 * Not thread-safe: one session's loop owns it. Strings hold bytes one char per byte.
 */
final class TestMessage {
    private static final String RED = "\033[01;31m";
    private static final String GREEN = "\033[01;32m";
    private static final String NORMAL = "\033[00m";

    /** A header field: name without colon, value as sent (may span lines). */
    record Header(String name, String value) {
        Header {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    private final String originalEnvelopeFrom;
    private String envelopeFrom;
    private final List<String> originalRecipients;
    private final List<String> recipients;
    private final List<Header> originalHeaders;
    private final List<Header> headers;
    private final String body;
    private final StringBuilder replacedBody = new StringBuilder();
    private String quarantineReason;

    TestMessage(String envelopeFrom, List<String> recipients, List<Header> headers, List<String> bodyChunks) {
        this.originalEnvelopeFrom = envelopeFrom;
        this.envelopeFrom = envelopeFrom;
        this.originalRecipients = List.copyOf(recipients);
        this.recipients = new ArrayList<>(recipients);
        this.originalHeaders = List.copyOf(headers);
        this.headers = new ArrayList<>(headers);
        this.body = String.join("", bodyChunks);
    }

    List<String> recipients() {
        return recipients;
    }

    String quarantineReason() {
        return quarantineReason;
    }

    /** A recipient the milter refused is not delivered to. */
    void removeRecipient(String recipient) {
        recipients.remove(recipient);
    }

    /** Applies one end-of-message modification. */
    void apply(Reply reply) {
        if (reply instanceof Reply.AddHeader add) {
            headers.add(new Header(add.name(), add.value()));
        } else if (reply instanceof Reply.InsertHeader insert) {
            headers.add(Math.min(insert.index(), headers.size()), new Header(insert.name(), insert.value()));
        } else if (reply instanceof Reply.ChangeHeader change) {
            changeHeader(change);
        } else if (reply instanceof Reply.AddRecipient add) {
            recipients.add(bracketed(add.address()));
        } else if (reply instanceof Reply.AddRecipientWithParameters add) {
            recipients.add(bracketed(add.address()));
        } else if (reply instanceof Reply.DeleteRecipient delete) {
            recipients.remove(bracketed(delete.address()));
        } else if (reply instanceof Reply.ChangeFrom change) {
            envelopeFrom = bracketed(change.address());
        } else if (reply instanceof Reply.ReplaceBody replace) {
            replacedBody.append(replace.content().toString(StandardCharsets.ISO_8859_1));
        } else if (reply instanceof Reply.Quarantine quarantine) {
            quarantineReason = quarantine.reason();
        }
    }

    private void changeHeader(Reply.ChangeHeader change) {
        int wanted = Math.max(1, change.index());
        int seen = 0;
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).name().equalsIgnoreCase(change.name()) && ++seen == wanted) {
                if (change.isDelete()) {
                    headers.remove(i);
                } else {
                    headers.set(i, new Header(headers.get(i).name(), change.value()));
                }
                return;
            }
        }
        if (!change.isDelete()) {
            headers.add(new Header(change.name(), change.value()));
        }
    }

    /** Addresses are shown in angle brackets, whatever form the milter used. */
    static String bracketed(String address) {
        return address.startsWith("<") && address.endsWith(">") ? address : "<" + address + ">";
    }

    /** The {@code Envelope:}, {@code Header:} and {@code Body:} sections. */
    void print(StringBuilder out, boolean color) {
        out.append("Envelope:------------------------------\n");
        printEnvelope(out, color);
        out.append("Header:--------------------------------\n");
        printHeaders(out, color);
        out.append("Body:----------------------------------\n");
        printBody(out);
    }

    private void printEnvelope(StringBuilder out, boolean color) {
        if (Objects.equals(originalEnvelopeFrom, envelopeFrom)) {
            envelopeLine(out, color, " ", "MAIL FROM", originalEnvelopeFrom);
        } else {
            envelopeLine(out, color, "-", "MAIL FROM", originalEnvelopeFrom);
            envelopeLine(out, color, "+", "MAIL FROM", envelopeFrom);
        }
        int i = 0;
        for (; i < originalRecipients.size() && i < recipients.size(); i++) {
            String original = originalRecipients.get(i);
            String result = recipients.get(i);
            if (original.equals(result)) {
                envelopeLine(out, color, " ", "RCPT TO", original);
            } else {
                envelopeLine(out, color, "-", "RCPT TO", original);
                envelopeLine(out, color, "+", "RCPT TO", result);
            }
        }
        for (int j = i; j < originalRecipients.size(); j++) {
            envelopeLine(out, color, "-", "RCPT TO", originalRecipients.get(j));
        }
        for (int j = i; j < recipients.size(); j++) {
            envelopeLine(out, color, "+", "RCPT TO", recipients.get(j));
        }
    }

    private static void envelopeLine(StringBuilder out, boolean color, String prefix, String label, String address) {
        String[] colors = colors(color, prefix);
        out.append(colors[0]).append(prefix).append(' ').append(label).append(':').append(address)
                .append(colors[1]).append('\n');
    }

    /** Walks both lists like upstream: equal lines are kept, unmatched ones are removed or added. */
    private void printHeaders(StringBuilder out, boolean color) {
        int o = 0;
        int r = 0;
        while (o < originalHeaders.size() && r < headers.size()) {
            Header original = originalHeaders.get(o);
            Header result = headers.get(r);
            if (original.equals(result)) {
                headerLines(out, color, " ", original);
                o++;
                r++;
            } else if (!originalHeaders.subList(o, originalHeaders.size()).contains(result)) {
                headerLines(out, color, "+", result);
                r++;
            } else if (!headers.subList(r, headers.size()).contains(original)) {
                headerLines(out, color, "-", original);
                o++;
            } else if (original.name().equals(result.name())) {
                headerLines(out, color, "-", original);
                headerLines(out, color, "+", result);
                o++;
                r++;
            } else {
                headerLines(out, color, "+", result);
                r++;
            }
        }
        for (; o < originalHeaders.size(); o++) {
            headerLines(out, color, "-", originalHeaders.get(o));
        }
        for (; r < headers.size(); r++) {
            headerLines(out, color, "+", headers.get(r));
        }
    }

    private static void headerLines(StringBuilder out, boolean color, String prefix, Header header) {
        String[] colors = colors(color, prefix);
        if (header.value().isEmpty()) {
            out.append(colors[0]).append(prefix).append(' ').append(header.name()).append(':').append(colors[1])
                    .append('\n');
            return;
        }
        String[] lines = header.value().split("\n", -1);
        out.append(colors[0]).append(prefix).append(' ').append(header.name()).append(": ").append(lines[0])
                .append(colors[1]).append('\n');
        for (int i = 1; i < lines.length; i++) {
            out.append(colors[0]).append(prefix).append(' ').append(lines[i]).append(colors[1]).append('\n');
        }
    }

    private static String[] colors(boolean color, String prefix) {
        if (color && prefix.equals("+")) {
            return new String[] {GREEN, NORMAL};
        }
        if (color && prefix.equals("-")) {
            return new String[] {RED, NORMAL};
        }
        return new String[] {"", ""};
    }

    /** The replaced body if the milter sent one, else the original; converted from its declared charset. */
    private void printBody(StringBuilder out) {
        String text = replacedBody.length() > 0 ? replacedBody.toString() : body;
        String charset = charset();
        if (charset != null) {
            try {
                Charset declared = Charset.forName(charset);
                String decoded = new String(text.getBytes(StandardCharsets.ISO_8859_1), declared);
                // Back to one char per byte of UTF-8, the form everything printed here is in.
                text = new String(decoded.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
            } catch (IllegalArgumentException e) {
                out.append("Error:---------------------------------\n")
                        .append("Conversion from character set '").append(charset).append("' is not supported\n")
                        .append("---------------------------------------\n");
            }
        }
        out.append(text).append('\n');
    }

    private String charset() {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase("Content-Type")) {
                return charsetOf(header.value());
            }
        }
        return null;
    }

    static String charsetOf(String value) {
        int start = value.indexOf("charset=");
        if (start < 0) {
            return null;
        }
        start += "charset=".length();
        if (start < value.length() && (value.charAt(start) == '"' || value.charAt(start) == '\'')) {
            int end = value.indexOf(value.charAt(start), start + 1);
            return end < 0 ? null : value.substring(start + 1, end);
        }
        int end = value.indexOf(';', start);
        return end < 0 ? value.substring(start) : value.substring(start, end);
    }
}
