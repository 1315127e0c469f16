package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LogBytesTest {
    @Test
    void charsUpToFfAreSingleBytesSoWireTextKeepsItsBytes() {
        byte[] utf8 = "Subject: \u3042".getBytes(StandardCharsets.UTF_8);
        String wire = new String(utf8, StandardCharsets.ISO_8859_1);
        assertArrayEquals(utf8, LogBytes.encode(wire));
    }

    @Test
    void charsAboveFfAreUtf8() {
        assertArrayEquals("path \u65e5\u672c/\ud83d\ude00".getBytes(StandardCharsets.UTF_8),
                LogBytes.encode("path \u65e5\u672c/\ud83d\ude00"));
        assertArrayEquals("\u0100".getBytes(StandardCharsets.UTF_8), LogBytes.encode("\u0100"));
    }

    @Test
    void loneSurrogateIsWrittenNotDropped() {
        assertArrayEquals(new byte[] {'a', (byte) 0xED, (byte) 0xA0, (byte) 0xBD}, LogBytes.encode("a\ud83d"));
    }
}
