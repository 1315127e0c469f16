package milter.testing.smtp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DotStuffingOutputStreamTest {

    private static String encode(String content) {
        return new String(DotStuffingOutputStream.encode(content.getBytes(StandardCharsets.ISO_8859_1)),
                StandardCharsets.ISO_8859_1);
    }

    @Test
    void leadingDotsAreDoubled() {
        assertEquals("..a\r\nb.c\r\n...\r\n.\r\n", encode(".a\r\nb.c\r\n..\r\n"));
    }

    @Test
    void bareLineFeedsAndCarriageReturnsBecomeCrlf() {
        assertEquals("a\r\nb\r\nc\r\n\r\nd\r\n.\r\n", encode("a\nb\rc\r\n\nd\r\n"));
    }

    @Test
    void unterminatedLastLineIsTerminated() {
        assertEquals("last\r\n.\r\n", encode("last"));
    }

    @Test
    void dotAfterBareLineFeedIsStuffed() {
        assertEquals("x\r\n..\r\n.\r\n", encode("x\n."));
    }

    @Test
    void emptyContentIsJustTheEndMarker() {
        assertEquals(".\r\n", encode(""));
    }

    @Test
    void eightBitBytesPassUnchanged() {
        assertEquals("caf\u00e9\u00ff\r\n.\r\n", encode("caf\u00e9\u00ff"));
    }
}
