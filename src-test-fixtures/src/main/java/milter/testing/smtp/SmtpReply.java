package milter.testing.smtp;

import java.util.List;
import java.util.Objects;

/**
 * One SMTP server reply: its three-digit code and the text of every line (without the code and separator).
 * {@link #toString()} gives the reply as it was on the wire, lines joined by {@code \n}, so a test can write
 * {@code assertEquals("550 5.7.1 No thanks", reply.toString())}.
 */
public record SmtpReply(int code, List<String> lines) {

    public SmtpReply {
        if (code < 100 || code > 599) {
            throw new IllegalArgumentException("SMTP reply code out of range: " + code);
        }
        lines = List.copyOf(lines);
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("an SMTP reply has at least one line");
        }
    }

    /** The text of all lines joined by {@code \n}. */
    public String text() {
        return String.join("\n", lines);
    }

    /** The text of the last line (the one with a space after the code). */
    public String lastLine() {
        return lines.get(lines.size() - 1);
    }

    /** 2xx. */
    public boolean isPositive() {
        return code / 100 == 2;
    }

    /** 3xx: the server waits for more (354 after DATA). */
    public boolean isIntermediate() {
        return code / 100 == 3;
    }

    /** 4xx. */
    public boolean isTransientFailure() {
        return code / 100 == 4;
    }

    /** 5xx. */
    public boolean isPermanentFailure() {
        return code / 100 == 5;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int last = lines.size() - 1;
        for (int i = 0; i <= last; i++) {
            if (i > 0) {
                sb.append('\n');
            }
            sb.append(code);
            if (i < last) {
                sb.append('-').append(lines.get(i));
            } else if (!lines.get(i).isEmpty()) {
                sb.append(' ').append(lines.get(i));
            }
        }
        return sb.toString();
    }
}
