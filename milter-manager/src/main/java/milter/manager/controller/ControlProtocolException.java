package milter.manager.controller;

/** A control packet that cannot be decoded or a request the controller does not know. */
public final class ControlProtocolException extends Exception {
    public ControlProtocolException(String message) {
        super(message);
    }
}
