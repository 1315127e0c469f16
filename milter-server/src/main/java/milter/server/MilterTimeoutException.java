package milter.server;

/** One of the session's timers expired; the connection has been closed. */
public final class MilterTimeoutException extends MilterServerException {
    private final TimeoutKind kind;

    public MilterTimeoutException(TimeoutKind kind, String state, String message) {
        super(state, message);
        this.kind = kind;
    }

    public TimeoutKind kind() {
        return kind;
    }
}
