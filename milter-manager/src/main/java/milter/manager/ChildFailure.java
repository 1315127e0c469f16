package milter.manager;

/** Why a child stopped being usable in a session; carried by the failed stage of a {@link ChildChannel}. */
public final class ChildFailure extends RuntimeException {

    /** The kinds of failure, with upstream's log tag part. */
    public enum Kind {
        CONNECTION_TIMEOUT("connection"),
        WRITING_TIMEOUT("writing"),
        READING_TIMEOUT("reading"),
        END_OF_MESSAGE_TIMEOUT("end-of-message"),
        CONNECTION_ERROR("connection"),
        PROTOCOL_ERROR("error"),
        /** A modification or progress outside end of message. */
        OUT_OF_STATE_REQUEST("invalid-state"),
        CLOSED("closed");

        private final String tag;

        Kind(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }

        public boolean isTimeout() {
            return this == CONNECTION_TIMEOUT || this == WRITING_TIMEOUT || this == READING_TIMEOUT
                    || this == END_OF_MESSAGE_TIMEOUT;
        }
    }

    private final Kind kind;
    private final String action;

    public ChildFailure(Kind kind, String message) {
        this(kind, message, null, null);
    }

    public ChildFailure(Kind kind, String message, Throwable cause) {
        this(kind, message, cause, null);
    }

    /** @param action for {@link Kind#OUT_OF_STATE_REQUEST}: the nick of the request ({@code add-header}) */
    public ChildFailure(Kind kind, String message, Throwable cause, String action) {
        super(message, cause, false, false);
        this.kind = kind;
        this.action = action;
    }

    public Kind kind() {
        return kind;
    }

    /** The request nick of an {@link Kind#OUT_OF_STATE_REQUEST}, else null. */
    public String action() {
        return action;
    }

    /**
     * Unwraps completion wrappers to the ChildFailure inside, turns milter-server's exceptions into their kind
     * (see {@link ServerChildConnector#toFailure}), or makes one from any other throwable.
     */
    public static ChildFailure of(Throwable error) {
        Throwable cause = error;
        while (cause != null) {
            if (cause instanceof ChildFailure failure) {
                return failure;
            }
            if (cause instanceof milter.server.MilterServerException) {
                return ServerChildConnector.toFailure(cause);
            }
            if (cause.getCause() == null || cause.getCause() == cause) {
                break;
            }
            cause = cause.getCause();
        }
        String message = cause == null ? "unknown error" : String.valueOf(cause.getMessage());
        return new ChildFailure(Kind.PROTOCOL_ERROR, message, error);
    }
}
