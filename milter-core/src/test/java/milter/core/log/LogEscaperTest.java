package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class LogEscaperTest {
    @Test
    void plainTextIsReturnedAsIs() {
        String text = "<alice@example.org> \u00e3\u0081\u0082 \\n";
        assertSame(text, LogEscaper.escape(text));
    }

    @Test
    void lineBreaksTabsNulAndOtherControlsAreEscaped() {
        assertEquals("a\\r\\nb", LogEscaper.escape("a\r\nb"));
        assertEquals("x\\x00y", LogEscaper.escape("x\0y"));
        assertEquals("\\tindent", LogEscaper.escape("\tindent"));
        assertEquals("bell\\x07 del\\x7F esc\\x1B", LogEscaper.escape("bell\u0007 del\u007f esc\u001b"));
    }

    @Test
    void wireBytesAboveAsciiAreKept() {
        // UTF-8 of "あ" as the wire delivers it, one char per byte: a continuation byte is no control.
        assertEquals("\u00e3\u0081\u0082\\n", LogEscaper.escape("\u00e3\u0081\u0082\n"));
    }
}
