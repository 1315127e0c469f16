package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/** Building frames: the length word, the code byte, then the payload. */
final class Frames {
    private Frames() {
    }

    /** A buffer sized for the whole frame with length and code already written. */
    static ByteBuf start(ByteBufAllocator alloc, char code, int payloadSize) {
        if (payloadSize > MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD) {
            // No peer accepts such a frame (even the negotiated 1M extension stops here): refuse it rather than
            // put a packet on the wire that makes the other side drop the connection.
            throw new IllegalArgumentException("payload of " + payloadSize + " bytes exceeds the largest frame ("
                    + MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD + " bytes)");
        }
        ByteBuf buf = alloc.ioBuffer(Wire.LENGTH_BYTES + 1 + payloadSize);
        buf.writeInt(payloadSize + 1);
        buf.writeByte(code);
        return buf;
    }

    static ByteBuf strings(ByteBufAllocator alloc, char code, List<String> strings) {
        int size = 0;
        for (String s : strings) {
            size += Wire.sizeOf(s);
        }
        ByteBuf buf = start(alloc, code, size);
        try {
            for (String s : strings) {
                Wire.writeString(buf, s, "string");
            }
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return buf;
    }

    static List<String> concat(String first, List<String> rest) {
        List<String> all = new ArrayList<>(rest.size() + 1);
        all.add(first);
        all.addAll(rest);
        return all;
    }

    /**
     * Frames {@code data} as packets of at most {@code maxChunk} bytes each: a header buffer, then a retained slice.
     * Empty data gives one empty packet.
     */
    static void chunked(ByteBufAllocator alloc, char code, ByteBuf data, int maxChunk, List<Object> out) {
        int index = data.readerIndex();
        int remaining = data.readableBytes();
        do {
            int n = Math.min(remaining, maxChunk);
            out.add(start(alloc, code, n));
            if (n > 0) {
                out.add(data.retainedSlice(index, n));
            }
            index += n;
            remaining -= n;
        } while (remaining > 0);
    }

    /**
     * A packet {@code code} carrying the last at most {@code maxChunk} bytes of {@code data}, preceded by
     * {@code leadCode} packets for whatever comes before (each a header buffer and a retained slice).
     */
    static void lastChunk(ByteBufAllocator alloc, char leadCode, char code, ByteBuf data, int maxChunk,
            List<Object> out) {
        int index = data.readerIndex();
        int remaining = data.readableBytes();
        while (remaining > maxChunk) {
            out.add(start(alloc, leadCode, maxChunk));
            out.add(data.retainedSlice(index, maxChunk));
            index += maxChunk;
            remaining -= maxChunk;
        }
        out.add(start(alloc, code, remaining));
        if (remaining > 0) {
            out.add(data.retainedSlice(index, remaining));
        }
    }
}
