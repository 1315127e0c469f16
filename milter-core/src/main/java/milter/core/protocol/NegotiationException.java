package milter.core.protocol;

/** A negotiate reply (or offer) that the other side cannot accept; the message says why. */
public final class NegotiationException extends Exception {
    public NegotiationException(String message) {
        super(message);
    }
}
