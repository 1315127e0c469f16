package milter.core.log;

/**
 * Turns a log line into the bytes written out. Strings taken from the wire hold one byte per char
 * (ISO-8859-1), so a char up to U+00FF is written as that single byte: a UTF-8 subject header comes out as
 * the very bytes the MTA sent, as upstream writes them. A char above U+00FF can only be real text (a path, an
 * exception message) and is written as UTF-8. The one case this gets wrong is real text with a char in
 * U+0080..U+00FF, which comes out as its Latin-1 byte.
 */
public final class LogBytes {
    private LogBytes() {
    }

    public static byte[] encode(String text) {
        int n = text.length();
        int size = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c <= 0xFF) {
                size += 1;
            } else if (c < 0x800) {
                size += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                size += 4;
                i++;
            } else {
                size += 3;
            }
        }
        byte[] out = new byte[size];
        int p = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c <= 0xFF) {
                out[p++] = (byte) c;
            } else if (c < 0x800) {
                out[p++] = (byte) (0xC0 | (c >> 6));
                out[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(++i));
                out[p++] = (byte) (0xF0 | (cp >> 18));
                out[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[p++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                // A lone surrogate is written as its three-byte form rather than dropped.
                out[p++] = (byte) (0xE0 | (c >> 12));
                out[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                out[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return out;
    }
}
