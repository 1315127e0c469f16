package milter.manager.config.ruby;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.jcodings.specific.ASCIIEncoding;
import org.jcodings.specific.UTF8Encoding;
import org.jruby.Ruby;
import org.jruby.RubyString;
import org.jruby.runtime.builtin.IRubyObject;
import org.jruby.util.ByteList;

/**
 * Conversions between protocol strings (wire bytes held one char per byte) and Ruby strings. A Ruby string gets
 * the same bytes, labelled UTF-8 when they are valid UTF-8 (as upstream's GLib strings are) and binary
 * otherwise, so that a regexp on a broken byte sequence cannot raise.
 */
public final class RubyStrings {
    private RubyStrings() {
    }

    /** A Ruby string with the wire bytes of {@code text}, or nil. */
    public static IRubyObject wire(Ruby runtime, String text) {
        if (text == null) {
            return runtime.getNil();
        }
        int length = text.length();
        byte[] bytes = new byte[length];
        boolean ascii = true;
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            bytes[i] = (byte) c;
            if (c >= 0x80) {
                ascii = false;
            }
        }
        return bytes(runtime, bytes, ascii);
    }

    /** A Ruby string with the readable bytes of a chunk (the buffer is not consumed). */
    public static IRubyObject bytes(Ruby runtime, ByteBuf chunk) {
        byte[] bytes = new byte[chunk.readableBytes()];
        chunk.getBytes(chunk.readerIndex(), bytes);
        return RubyString.newString(runtime, new ByteList(bytes, ASCIIEncoding.INSTANCE, false));
    }

    private static IRubyObject bytes(Ruby runtime, byte[] bytes, boolean ascii) {
        boolean utf8 = ascii || validUtf8(bytes);
        return RubyString.newString(runtime,
                new ByteList(bytes, utf8 ? UTF8Encoding.INSTANCE : ASCIIEncoding.INSTANCE, false));
    }

    /** The wire form (one char per byte) of a Ruby value's {@code to_s}, or null for nil. */
    public static String toWire(IRubyObject value) {
        if (value == null || value.isNil()) {
            return null;
        }
        ByteList bytes = value.asString().getByteList();
        int length = bytes.realSize();
        char[] chars = new char[length];
        byte[] unsafe = bytes.unsafeBytes();
        int begin = bytes.begin();
        for (int i = 0; i < length; i++) {
            chars[i] = (char) (unsafe[begin + i] & 0xFF);
        }
        return new String(chars);
    }

    private static boolean validUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
