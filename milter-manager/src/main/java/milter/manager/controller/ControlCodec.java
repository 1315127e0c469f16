package milter.manager.controller;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The control protocol's framing, as upstream's controller speaks it: {@code u32} big-endian payload length,
 * payload = NAME NUL CONTENT. Shared by the controller (Netty) and the blocking {@link ControlClient}.
 */
public final class ControlCodec {
    /** Largest payload accepted by default: a configuration fits many times over, a flood does not. */
    public static final int DEFAULT_MAX_PAYLOAD = 1024 * 1024;

    private ControlCodec() {
    }

    /** The whole frame (length and payload) as bytes. */
    public static byte[] encode(ControlPacket packet) {
        byte[] name = packet.name().getBytes(StandardCharsets.UTF_8);
        int payload = name.length + 1 + packet.content().length;
        byte[] frame = new byte[4 + payload];
        frame[0] = (byte) (payload >>> 24);
        frame[1] = (byte) (payload >>> 16);
        frame[2] = (byte) (payload >>> 8);
        frame[3] = (byte) payload;
        System.arraycopy(name, 0, frame, 4, name.length);
        frame[4 + name.length] = 0;
        System.arraycopy(packet.content(), 0, frame, 5 + name.length, packet.content().length);
        return frame;
    }

    public static ByteBuf encode(ByteBufAllocator allocator, ControlPacket packet) {
        byte[] frame = encode(packet);
        return allocator.buffer(frame.length).writeBytes(frame);
    }

    /**
     * A packet from a payload (the bytes after the length).
     *
     * @throws ControlProtocolException when the name is not terminated by NUL or is empty
     */
    public static ControlPacket decode(byte[] payload) throws ControlProtocolException {
        int nul = -1;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            throw new ControlProtocolException("control command isn't terminated by NULL");
        }
        if (nul == 0) {
            throw new ControlProtocolException("control command name is empty");
        }
        String name = new String(payload, 0, nul, StandardCharsets.UTF_8);
        byte[] content = new byte[payload.length - nul - 1];
        System.arraycopy(payload, nul + 1, content, 0, content.length);
        return new ControlPacket(name, content);
    }

    public static ControlPacket decode(ByteBuf payload) throws ControlProtocolException {
        byte[] bytes = new byte[payload.readableBytes()];
        payload.getBytes(payload.readerIndex(), bytes);
        return decode(bytes);
    }
}
