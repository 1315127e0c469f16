package milter.core.codec;

import java.util.HexFormat;

/** Hex dumps as the protocol specification writes them ({@code 00 00 00 01 41}). */
final class Hex {
    private Hex() {
    }

    static byte[] bytes(String spaced) {
        return HexFormat.of().parseHex(spaced.replace(" ", ""));
    }

    static String of(byte[] bytes) {
        return HexFormat.ofDelimiter(" ").withUpperCase().formatHex(bytes);
    }

    /** At most {@code max} bytes, for failure messages. */
    static String head(byte[] bytes, int max) {
        if (bytes.length <= max) {
            return of(bytes);
        }
        byte[] head = new byte[max];
        System.arraycopy(bytes, 0, head, 0, max);
        return of(head) + " ... (" + bytes.length + " bytes)";
    }
}
