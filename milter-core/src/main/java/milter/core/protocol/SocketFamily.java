package milter.core.protocol;

/** Address family of the SMTP client in a {@code C} command. */
public enum SocketFamily {
    UNKNOWN('U'),
    UNIX('L'),
    INET('4'),
    INET6('6');

    private final char code;

    SocketFamily(char code) {
        this.code = code;
    }

    public char code() {
        return code;
    }

    /** The family for a wire byte, or null. */
    public static SocketFamily fromCode(int code) {
        for (SocketFamily family : values()) {
            if (family.code == code) {
                return family;
            }
        }
        return null;
    }
}
