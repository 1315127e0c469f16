package milter.server;

/** The four timers of an MTA-side session, with upstream's nicks ({@code [children][timeout][reading]}). */
public enum TimeoutKind {
    /** Establishing the connection. */
    CONNECTION("connection"),
    /** A queued packet not yet handed to the kernel. */
    WRITING("writing"),
    /** A reply due for a command other than end of message. */
    READING("reading"),
    /** The final reply after end of message; each progress reply starts it again. */
    END_OF_MESSAGE("end-of-message");

    private final String nick;

    TimeoutKind(String nick) {
        this.nick = nick;
    }

    public String nick() {
        return nick;
    }
}
