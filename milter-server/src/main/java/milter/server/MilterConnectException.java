package milter.server;

/** The connection to the milter could not be established (refused, no such socket, unresolvable host...). */
public final class MilterConnectException extends MilterServerException {
    public MilterConnectException(String message, Throwable cause) {
        super(ServerState.START.nick(), message, cause);
    }
}
