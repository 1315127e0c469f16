package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ControlCodecTest {

    @Test
    void frameIsLengthThenNameNulContent() {
        assertArrayEquals(new byte[] {0, 0, 0, 7, 'r', 'e', 'l', 'o', 'a', 'd', 0},
                ControlCodec.encode(ControlPacket.of("reload")));
        byte[] frame = ControlCodec.encode(ControlPacket.of("error", "oops"));
        assertArrayEquals(new byte[] {0, 0, 0, 10, 'e', 'r', 'r', 'o', 'r', 0, 'o', 'o', 'p', 's'}, frame);
    }

    @Test
    void payloadDecodesToNameAndContentEvenWithNulInsideTheContent() throws Exception {
        ControlPacket packet = ControlCodec.decode("set-configuration\0<a>\0</a>".getBytes(StandardCharsets.UTF_8));
        assertEquals("set-configuration", packet.name());
        assertEquals("<a>\0</a>", packet.text());
        assertEquals(ControlPacket.of("get-status"), ControlCodec.decode("get-status\0".getBytes(
                StandardCharsets.UTF_8)));
    }

    @Test
    void nameWithoutNulOrEmptyIsRefused() {
        assertEquals("control command isn't terminated by NULL", assertThrows(ControlProtocolException.class,
                () -> ControlCodec.decode("reload".getBytes(StandardCharsets.UTF_8))).getMessage());
        assertEquals("control command name is empty", assertThrows(ControlProtocolException.class,
                () -> ControlCodec.decode(new byte[] {0, 'x'})).getMessage());
    }
}
