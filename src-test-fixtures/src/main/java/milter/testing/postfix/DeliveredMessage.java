package milter.testing.postfix;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One message as the delivery agent stored it: the raw file (Unix line ends, as maildir keeps them), its header
 * fields in order, and the body. Header text is ISO-8859-1, one char per byte, so any byte survives.
 */
public final class DeliveredMessage {

    /** One header field: the name as written and the value without the colon and leading blanks, unfolded. */
    public record Header(String name, String value) {
        public Header {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    private final Path file;
    private final byte[] raw;
    private final List<Header> headers;
    private final int bodyStart;

    DeliveredMessage(Path file, byte[] raw) {
        this.file = file;
        this.raw = raw.clone();
        int end = headerEnd(raw);
        this.bodyStart = end < 0 ? raw.length : end;
        this.headers = parseHeaders(new String(raw, 0, end < 0 ? raw.length : end, StandardCharsets.ISO_8859_1));
    }

    /** Parses stored bytes (for messages that did not come from a maildir file). */
    public static DeliveredMessage parse(byte[] raw) {
        return new DeliveredMessage(null, raw);
    }

    /** The maildir file, or null for a message made by {@link #parse}. */
    public Path file() {
        return file;
    }

    /** The file's bytes exactly as stored. */
    public byte[] raw() {
        return raw.clone();
    }

    public List<Header> headers() {
        return headers;
    }

    /** The first value of the named header (case-insensitive), or null. */
    public String header(String name) {
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return header.value();
            }
        }
        return null;
    }

    /** Every value of the named header (case-insensitive), in order. */
    public List<String> headerValues(String name) {
        List<String> values = new ArrayList<>();
        for (Header header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                values.add(header.value());
            }
        }
        return values;
    }

    /** The recipient this copy was delivered to (the delivery agent's {@code Delivered-To}), or null. */
    public String deliveredTo() {
        return header("Delivered-To");
    }

    /** The body as stored (Unix line ends). */
    public byte[] storedBody() {
        byte[] body = new byte[raw.length - bodyStart];
        System.arraycopy(raw, bodyStart, body, 0, body.length);
        return body;
    }

    /**
     * The body as it travelled in SMTP: the maildir keeps lines with LF, every one of which was a CRLF line end
     * on the wire, so this gives back exactly the bytes a client sent after the blank line.
     */
    public byte[] body() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length - bodyStart + 1024);
        for (int i = bodyStart; i < raw.length; i++) {
            if (raw[i] == '\n') {
                out.write('\r');
            }
            out.write(raw[i]);
        }
        return out.toByteArray();
    }

    /** {@link #body()} as ISO-8859-1 text. */
    public String bodyText() {
        return new String(body(), StandardCharsets.ISO_8859_1);
    }

    /** Index just past the empty line that ends the header, or -1 if there is none. */
    private static int headerEnd(byte[] raw) {
        if (raw.length > 0 && raw[0] == '\n') {
            return 1;
        }
        for (int i = 1; i < raw.length; i++) {
            if (raw[i] == '\n' && raw[i - 1] == '\n') {
                return i + 1;
            }
        }
        return -1;
    }

    private static List<Header> parseHeaders(String text) {
        List<Header> result = new ArrayList<>();
        String name = null;
        StringBuilder value = new StringBuilder();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && name != null) {
                value.append(line); // unfolding drops only the line break
                continue;
            }
            if (name != null) {
                result.add(new Header(name, value.toString()));
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                name = null; // not a header line (mbox "From " and the like): keep it out of the list
                value.setLength(0);
                continue;
            }
            name = line.substring(0, colon);
            value.setLength(0);
            value.append(stripLeadingBlanks(line.substring(colon + 1)));
        }
        if (name != null) {
            result.add(new Header(name, value.toString()));
        }
        return List.copyOf(result);
    }

    private static String stripLeadingBlanks(String s) {
        int i = 0;
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
            i++;
        }
        return s.substring(i);
    }

    @Override
    public String toString() {
        return "DeliveredMessage[" + (file == null ? "" : file.getFileName() + ", ") + "to=" + deliveredTo()
                + ", " + raw.length + " bytes, subject=" + header("Subject") + "]";
    }
}
