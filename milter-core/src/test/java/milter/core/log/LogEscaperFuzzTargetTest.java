package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzz target for the log escaper and the line it ends up in: whatever a peer sends (read as
 * wire bytes, one char per byte, and also as arbitrary UTF-16 including lone surrogates), the rendered line is
 * one line: no control character survives, the written bytes hold no CR, LF or ESC before the line's own
 * newline, text without control characters is left as it is, and each control character becomes its own
 * escape. Seeds: {@code src/test/resources/milter/core/log/LogEscaperFuzzTargetTestInputs/escape}.
 */
class LogEscaperFuzzTargetTest {
    private static final LoggerContext CONTEXT = new LoggerContext();
    private static final TaggedLayout LAYOUT = new TaggedLayout();

    static {
        LAYOUT.setContext(CONTEXT);
        LAYOUT.setTimestamp(false);
        LAYOUT.start();
    }

    @FuzzTest(maxDuration = "10s")
    void escape(byte[] input) {
        check(new String(input, StandardCharsets.ISO_8859_1));
        check(new String(input, StandardCharsets.UTF_16BE));
    }

    private static void check(String text) {
        String escaped = LogEscaper.escape(text);
        assertEquals(reference(text), escaped, () -> "escape of " + visible(text));
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                fail("control character " + (int) c + " survived in " + visible(escaped));
            }
        }
        if (text.equals(escaped)) {
            assertSame(text, escaped, "clean text is returned as it is, without a copy");
        }
        String tagged = TaggedLogger.format(7, "[client][receive][helo]", escaped);
        assertOneLine(tagged + "\n", text);
        // The same text as a foreign logger's message and as the message of an exception and its cause.
        LoggingEvent event = new LoggingEvent("test", CONTEXT.getLogger("peer"), Level.WARN, text,
                new IllegalStateException(text, new RuntimeException(text)), null);
        assertOneLine(LAYOUT.doLayout(event), text);
    }

    private static void assertOneLine(String line, String text) {
        assertTrue(line.endsWith("\n"), "a line ends with its newline");
        byte[] bytes = LogBytes.encode(line);
        for (int i = 0; i < bytes.length - 1; i++) {
            byte b = bytes[i];
            if (b == '\n' || b == '\r' || b == 0x1B) {
                fail("byte " + b + " at " + i + " of the line written for " + visible(text));
            }
        }
        assertEquals('\n', bytes[bytes.length - 1]);
    }

    /** The escaping spelled out char by char. */
    private static String reference(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                out.append("\\n");
            } else if (c == '\r') {
                out.append("\\r");
            } else if (c == '\t') {
                out.append("\\t");
            } else if (c < 0x20 || c == 0x7F) {
                out.append(String.format("\\x%02X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String visible(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0; i < Math.min(text.length(), 80); i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04X", (int) c));
        }
        return out.append(text.length() > 80 ? "...\"" : "\"").toString();
    }
}
