package milter.server;

/** The connection ended (closed by the milter, reset, or quit by us) before the awaited reply came. */
public final class MilterClosedException extends MilterServerException {
    public MilterClosedException(String state, String message) {
        super(state, message);
    }

    public MilterClosedException(String state, String message, Throwable cause) {
        super(state, message, cause);
    }
}
