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

    /** One packet whose payload is all of {@code data} (which may be empty). */
    static void withData(ByteBufAllocator alloc, char code, ByteBuf data, List<Object> out) {
        out.add(start(alloc, code, data.readableBytes()));
        if (data.isReadable()) {
            out.add(data.retainedSlice());
        }
    }
}
