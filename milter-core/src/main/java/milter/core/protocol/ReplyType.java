package milter.core.protocol;

/** The milter-to-MTA packet kinds, with their wire letter and upstream's nick. */
public enum ReplyType {
    NEGOTIATE('O', "negotiate"),
    CONTINUE('c', "continue"),
    ACCEPT('a', "accept"),
    REJECT('r', "reject"),
    TEMPORARY_FAILURE('t', "temporary-failure"),
    DISCARD('d', "discard"),
    REPLY_CODE('y', "reply-code"),
    SKIP('s', "skip"),
    PROGRESS('p', "progress"),
    ADD_HEADER('h', "add-header"),
    INSERT_HEADER('i', "insert-header"),
    CHANGE_HEADER('m', "change-header"),
    ADD_RECIPIENT('+', "add-recipient"),
    ADD_RECIPIENT_WITH_PARAMETERS('2', "add-recipient"),
    DELETE_RECIPIENT('-', "delete-recipient"),
    CHANGE_FROM('e', "change-from"),
    REPLACE_BODY('b', "replace-body"),
    QUARANTINE('q', "quarantine"),
    CONNECTION_FAILURE('f', "connection-failure"),
    SHUTDOWN('4', "shutdown"),
    SET_SYMBOL_LIST('l', "set-symbol-list");

    private static final ReplyType[] BY_CODE = new ReplyType[128];

    static {
        for (ReplyType type : values()) {
            BY_CODE[type.code] = type;
        }
    }

    private final char code;
    private final String nick;

    ReplyType(char code, String nick) {
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
    public static ReplyType fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    /** Whether this reply ends the processing of a command (as opposed to a modification or progress). */
    public boolean isFinal() {
        return switch (this) {
            case CONTINUE, ACCEPT, REJECT, TEMPORARY_FAILURE, DISCARD, REPLY_CODE, SKIP, CONNECTION_FAILURE,
                    SHUTDOWN -> true;
            default -> false;
        };
    }

    /** Whether this reply is a message modification, legal only in answer to end of message. */
    public boolean isModification() {
        return switch (this) {
            case ADD_HEADER, INSERT_HEADER, CHANGE_HEADER, ADD_RECIPIENT, ADD_RECIPIENT_WITH_PARAMETERS,
                    DELETE_RECIPIENT, CHANGE_FROM, REPLACE_BODY, QUARANTINE -> true;
            default -> false;
        };
    }

    /** The action flag the MTA must have granted for this modification, or 0. */
    public int requiredAction() {
        return switch (this) {
            case ADD_HEADER, INSERT_HEADER -> ActionFlags.ADD_HEADERS;
            case CHANGE_HEADER -> ActionFlags.CHANGE_HEADERS;
            case ADD_RECIPIENT -> ActionFlags.ADD_ENVELOPE_RECIPIENT;
            case ADD_RECIPIENT_WITH_PARAMETERS -> ActionFlags.ADD_ENVELOPE_RECIPIENT_WITH_PARAMETERS;
            case DELETE_RECIPIENT -> ActionFlags.DELETE_ENVELOPE_RECIPIENT;
            case CHANGE_FROM -> ActionFlags.CHANGE_ENVELOPE_FROM;
            case REPLACE_BODY -> ActionFlags.CHANGE_BODY;
            case QUARANTINE -> ActionFlags.QUARANTINE;
            default -> 0;
        };
    }
}
