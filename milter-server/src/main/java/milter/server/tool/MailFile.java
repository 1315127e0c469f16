package milter.server.tool;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A message file (RFC 5322, optionally with an mbox {@code From } line) split the way upstream's
 * {@code milter-test-server --mail-file} does: headers (continuation lines joined with their line break, value
 * without leading blanks), body chunks of at most 65535 bytes (line ends kept as in the file), the envelope
 * sender from {@code From:} and the recipients from each {@code To:}. Strings hold bytes one char per byte.
 */
public record MailFile(List<TestMessage.Header> headers, List<String> bodyChunks, String envelopeFrom,
        List<String> recipients) {

    private static final int CHUNK_SIZE = 65535;

    public MailFile {
        headers = List.copyOf(headers);
        bodyChunks = List.copyOf(bodyChunks);
        recipients = List.copyOf(recipients);
    }

    /**
     * Parses a message.
     *
     * @throws IllegalArgumentException naming the first line that is neither a header, a continuation nor the
     *                                  separator, or an address without its closing {@code >}
     */
    public static MailFile parse(byte[] contents) {
        String[] lines = new String(contents, StandardCharsets.ISO_8859_1).split("\n", -1);
        int i = 0;
        if (lines.length > 0 && lines[0].startsWith("From ")) {
            i++;
        }
        List<TestMessage.Header> headers = new ArrayList<>();
        for (; i < lines.length; i++) {
            String line = lines[i];
            boolean crlf = line.endsWith("\r");
            if (crlf) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isEmpty()) {
                i++;
                break;
            }
            if (isHeader(line)) {
                int colon = line.indexOf(':');
                headers.add(new TestMessage.Header(line.substring(0, colon), stripLeading(line.substring(colon + 1))));
            } else if (isBlank(line.charAt(0)) && !headers.isEmpty()) {
                TestMessage.Header last = headers.remove(headers.size() - 1);
                headers.add(new TestMessage.Header(last.name(), last.value() + (crlf ? "\r\n" : "\n") + line));
            } else {
                throw new IllegalArgumentException("invalid header: <" + line + ">");
            }
        }
        List<String> chunks = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        for (; i < lines.length; i++) {
            String line = lines[i];
            if (body.length() + line.length() + 1 > CHUNK_SIZE) {
                chunks.add(body.toString());
                body.setLength(0);
            }
            body.append(line).append('\n');
        }
        if (body.length() > 0) {
            // The text after the last line break is an empty "line": its added break goes again.
            chunks.add(body.substring(0, body.length() - 1));
        }
        String from = null;
        List<String> recipients = new ArrayList<>();
        for (TestMessage.Header header : headers) {
            if (header.name().equals("From")) {
                from = extractPath(header.value());
            } else if (header.name().equals("To")) {
                recipients.add(extractPath(header.value()));
            }
        }
        return new MailFile(headers, chunks, from, recipients);
    }

    /** {@code <addr>} from a header value: the first bracketed path, or else the first word in brackets. */
    static String extractPath(String value) {
        int open = value.indexOf('<');
        if (open >= 0) {
            int close = value.indexOf('>', open);
            if (close < 0) {
                throw new IllegalArgumentException("invalid mail address: <" + value + ">");
            }
            return value.substring(open, close + 1);
        }
        int start = 0;
        while (start < value.length() && value.charAt(start) == ' ') {
            start++;
        }
        int end = start;
        while (end < value.length() && value.charAt(end) != ' ') {
            end++;
        }
        return "<" + value.substring(start, end) + ">";
    }

    private static boolean isHeader(String line) {
        char first = line.charAt(0);
        boolean alnum = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') || (first >= '0' && first <= '9');
        return alnum && line.indexOf(':') >= 0;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    private static String stripLeading(String value) {
        int i = 0;
        while (i < value.length() && isBlank(value.charAt(i))) {
            i++;
        }
        return value.substring(i);
    }
}
