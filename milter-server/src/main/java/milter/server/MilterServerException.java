package milter.server;

/**
 * Why a {@link ServerSession} could not complete what was asked. Every failure carries the state nick of the
 * session when it happened, so the manager can log {@code [children][error][STATE][FALLBACK]} without guessing.
 * Subclasses name the kind: connect failure, timeout, protocol violation, connection closed.
 */
public class MilterServerException extends Exception {
    private final String state;

    public MilterServerException(String state, String message) {
        super(message);
        this.state = state;
    }

    public MilterServerException(String state, String message, Throwable cause) {
        super(message, cause);
        this.state = state;
    }

    /** The state nick ({@link ServerState#nick()}) the session was in. */
    public String state() {
        return state;
    }
}
