package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one JSON object per event (JSON lines), for log collectors that want fields rather than text:
 * <pre>{"time":"2024-01-31T12:34:56.789012Z","level":"error","session":12,"tags":["children","error","connection"],
 * "message":"[13] Failed to connect to inet:3310@localhost: Connection refused: clamav-milter"}</pre>
 * The fields are the parts of the tagged line: {@code session} is null for process-level lines, {@code tags}
 * are the leading bracketed words without their brackets, {@code message} is the rest. Lines of other loggers
 * (Netty, JRuby ...) have no tags and carry {@code "logger"}; a throwable adds {@code "error"}.
 *
 * <p>The output is plain ASCII: characters outside it are written as {@code \\uXXXX}. Strings from the wire hold
 * one byte per char; a run of such bytes that is valid UTF-8 is shown as the text it encodes, any other byte as
 * the Latin-1 character of that value, so the line is always valid JSON.
 */
public class JsonLineLayout extends TaggedLayout {

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder out = new StringBuilder(160);
        out.append("{\"time\":\"").append(formatTimestamp(timeOf(event))).append('"');
        out.append(",\"level\":\"").append(EventLevels.levelOf(event).nick()).append('"');
        String text = event.getFormattedMessage() == null ? "" : event.getFormattedMessage();
        if (EventLevels.isTagged(event)) {
            TaggedLine line = TaggedLine.parse(text);
            out.append(",\"session\":").append(line.session < 0 ? "null" : Long.toString(line.session));
            out.append(",\"tags\":[");
            for (int i = 0; i < line.tags.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                appendString(out, line.tags.get(i));
            }
            out.append("],\"message\":");
            appendString(out, line.message);
        } else {
            out.append(",\"session\":null,\"tags\":[],\"logger\":");
            appendString(out, event.getLoggerName());
            out.append(",\"message\":");
            appendString(out, text);
        }
        if (event.getThrowableProxy() != null) {
            out.append(",\"error\":");
            appendString(out, describe(event.getThrowableProxy(),
                    LogLevels.contains(TaggedLogger.levels(), LogLevel.DEBUG)));
        }
        return out.append("}\n").toString();
    }

    /** The session, tags and text of a line built by {@link TaggedLogger#format}. */
    static final class TaggedLine {
        final long session;
        final List<String> tags;
        final String message;

        private TaggedLine(long session, List<String> tags, String message) {
            this.session = session;
            this.tags = tags;
            this.message = message;
        }

        static TaggedLine parse(String line) {
            int position = 0;
            long session = -1;
            int close = line.indexOf("] ");
            if (line.startsWith("[") && close > 1 && close < 21 && isDigits(line, 1, close)
                    && close + 2 < line.length() && line.charAt(close + 2) == '[') {
                session = Long.parseLong(line.substring(1, close));
                position = close + 2;
            }
            List<String> tags = new ArrayList<>();
            while (position < line.length() && line.charAt(position) == '[') {
                int end = line.indexOf(']', position + 1);
                if (end < 0) {
                    break;
                }
                tags.add(line.substring(position + 1, end));
                position = end + 1;
            }
            if (position < line.length() && line.charAt(position) == ' ' && !tags.isEmpty()) {
                position++;
            }
            return new TaggedLine(session, tags, line.substring(position));
        }

        private static boolean isDigits(String text, int from, int to) {
            for (int i = from; i < to; i++) {
                if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                    return false;
                }
            }
            return true;
        }
    }

    /** A JSON string literal of {@code text}, ASCII only. */
    static void appendString(StringBuilder out, String text) {
        out.append('"');
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c >= 0x80 && c <= 0xFF) {
                int end = i;
                while (end < n && text.charAt(end) >= 0x80 && text.charAt(end) <= 0xFF) {
                    end++;
                }
                appendWireBytes(out, text, i, end);
                i = end - 1;
                continue;
            }
            appendChar(out, c);
        }
        out.append('"');
    }

    private static void appendWireBytes(StringBuilder out, String text, int from, int to) {
        byte[] bytes = new byte[to - from];
        for (int i = from; i < to; i++) {
            bytes[i - from] = (byte) text.charAt(i);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        String decoded;
        try {
            CharBuffer chars = decoder.decode(ByteBuffer.wrap(bytes));
            decoded = chars.toString();
        } catch (CharacterCodingException e) {
            decoded = text.substring(from, to);
        }
        for (int i = 0; i < decoded.length(); i++) {
            appendChar(out, decoded.charAt(i));
        }
    }

    private static void appendChar(StringBuilder out, char c) {
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default:
                if (c < 0x20 || c >= 0x7F) {
                    out.append("\\u");
                    String hex = Integer.toHexString(c);
                    for (int pad = hex.length(); pad < 4; pad++) {
                        out.append('0');
                    }
                    out.append(hex);
                } else {
                    out.append(c);
                }
                break;
        }
    }
}
