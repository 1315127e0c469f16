package milter.core.protocol;

/** The MTA-to-milter packet kinds, with their wire letter and upstream's state nick. */
public enum CommandType {
    NEGOTIATE('O', "negotiate"),
    DEFINE_MACRO('D', "define-macro"),
    CONNECT('C', "connect"),
    HELO('H', "helo"),
    ENVELOPE_FROM('M', "envelope-from"),
    ENVELOPE_RECIPIENT('R', "envelope-recipient"),
    DATA('T', "data"),
    HEADER('L', "header"),
    END_OF_HEADER('N', "end-of-header"),
    BODY('B', "body"),
    END_OF_MESSAGE('E', "end-of-message"),
    ABORT('A', "abort"),
    QUIT('Q', "quit"),
    QUIT_NEW_CONNECTION('K', "quit-new-connection"),
    UNKNOWN('U', "unknown");

    private static final CommandType[] BY_CODE = new CommandType[128];

    static {
        for (CommandType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final char code;
    private final String nick;

    CommandType(char code, String nick) {
        this.code = code;
        this.nick = nick;
    }

    public char code() {
        return code;
    }

    public String nick() {
        return nick;
    }

    /** The type for a wire letter, or null. */
    public static CommandType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Whether a {@code D} packet may name this command as its stage. */
    public boolean carriesMacros() {
        return switch (this) {
            case CONNECT, HELO, ENVELOPE_FROM, ENVELOPE_RECIPIENT, DATA, HEADER, END_OF_HEADER, BODY,
                    END_OF_MESSAGE, UNKNOWN -> true;
            default -> false;
        };
    }
}
