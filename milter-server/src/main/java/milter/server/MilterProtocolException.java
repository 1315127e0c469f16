package milter.server;

/**
 * The milter broke the protocol: a reply that is illegal in the current state, a modification it did not
 * negotiate, a malformed packet, or a negotiate reply the MTA cannot accept. The connection has been closed.
 */
public final class MilterProtocolException extends MilterServerException {
    public MilterProtocolException(String state, String message) {
        super(state, message);
    }

    public MilterProtocolException(String state, String message, Throwable cause) {
        super(state, message, cause);
    }
}
