package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import milter.core.codec.MilterDecoderException.Reason;

/** Reading and writing the payload data types of the milter protocol. */
final class Wire {
    /** Bytes of the length field. */
    static final int LENGTH_BYTES = 4;

    private Wire() {
    }

    /** Reads all NUL-terminated strings filling the rest of {@code payload}. */
    static List<String> readStrings(ByteBuf payload, String what) {
        List<String> strings = new ArrayList<>(2);
        while (payload.isReadable()) {
            strings.add(readString(payload, what));
        }
        return strings;
    }

    /** Reads one NUL-terminated string; the bytes map one-to-one onto chars (ISO-8859-1). */
    static String readString(ByteBuf payload, String what) {
        int end = payload.forEachByte(ByteProcessor.FIND_NUL);
        if (end < 0) {
            throw new MilterDecoderException(Reason.MISSING_NUL,
                    "string isn't terminated by NULL on " + what + ": <" + printable(payload) + ">");
        }
        int start = payload.readerIndex();
        String value = payload.toString(start, end - start, StandardCharsets.ISO_8859_1);
        payload.readerIndex(end + 1);
        return value;
    }

    static long readUnsignedInt(ByteBuf payload, String what) {
        need(payload, 4, what);
        return payload.readUnsignedInt();
    }

    static void need(ByteBuf payload, int bytes, String what) {
        if (payload.readableBytes() < bytes) {
            throw new MilterDecoderException(Reason.TRUNCATED_FIELD, "need more " + (bytes - payload.readableBytes())
                    + " bytes for decoding " + what);
        }
    }

    static void noTrailing(ByteBuf payload, String what) {
        if (payload.isReadable()) {
            throw new MilterDecoderException(Reason.TRAILING_BYTES, "needless " + payload.readableBytes()
                    + " bytes were received on " + what);
        }
    }

    static List<String> strings(ByteBuf payload, int min, int max, String what) {
        List<String> strings = readStrings(payload, what);
        if (strings.size() < min || strings.size() > max) {
            String expected = min == max ? Integer.toString(min) : min + ".." + (max == Integer.MAX_VALUE ? "" : max);
            throw new MilterDecoderException(Reason.WRONG_ARGUMENT_COUNT, what + " needs " + expected
                    + " strings but has " + strings.size());
        }
        return strings;
    }

    /** Wire size of a string and its NUL. */
    static int sizeOf(String value) {
        return isLatin1(value) ? value.length() + 1 : value.getBytes(StandardCharsets.UTF_8).length + 1;
    }

    /**
     * Writes a string and its NUL. Strings from the wire hold one char per byte and are written back unchanged;
     * strings with wider chars (typed in a configuration) are written as UTF-8.
     */
    static void writeString(ByteBuf out, String value, String what) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " contains a NUL byte");
        }
        if (isLatin1(value)) {
            out.writeCharSequence(value, StandardCharsets.ISO_8859_1);
        } else {
            out.writeCharSequence(value, StandardCharsets.UTF_8);
        }
        out.writeByte(0);
    }

    private static boolean isLatin1(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) > 0xFF) {
                return false;
            }
        }
        return true;
    }

    /** At most 64 bytes of a buffer, control bytes escaped, for error messages. */
    static String printable(ByteBuf buffer) {
        StringBuilder out = new StringBuilder();
        int end = Math.min(buffer.writerIndex(), buffer.readerIndex() + 64);
        for (int i = buffer.readerIndex(); i < end; i++) {
            int b = buffer.getUnsignedByte(i);
            if (b >= 0x20 && b < 0x7F && b != '\\') {
                out.append((char) b);
            } else {
                out.append(String.format("\\x%02X", b));
            }
        }
        if (end < buffer.writerIndex()) {
            out.append("...");
        }
        return out.toString();
    }
}
