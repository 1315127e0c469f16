package milter.server;

import milter.core.protocol.CommandType;

/**
 * Where a {@link ServerSession} is in the protocol, named with upstream's state nicks (they appear in log tags
 * such as {@code [server][error][continue][state][invalid][helo]}). The state is that of the last command
 * written to the milter.
 */
public enum ServerState {
    START("start"),
    DEFINE_MACRO("define-macro"),
    NEGOTIATE("negotiate"),
    CONNECT("connect"),
    HELO("helo"),
    ENVELOPE_FROM("envelope-from"),
    ENVELOPE_RECIPIENT("envelope-recipient"),
    DATA("data"),
    UNKNOWN("unknown"),
    HEADER("header"),
    END_OF_HEADER("end-of-header"),
    BODY("body"),
    END_OF_MESSAGE("end-of-message"),
    QUIT("quit"),
    QUIT_NEW_CONNECTION("quit-new-connection"),
    ABORT("abort");

    private final String nick;

    ServerState(String nick) {
        this.nick = nick;
    }

    public String nick() {
        return nick;
    }

    /** The state a command puts the session in. */
    public static ServerState of(CommandType command) {
        return switch (command) {
            case NEGOTIATE -> NEGOTIATE;
            case DEFINE_MACRO -> DEFINE_MACRO;
            case CONNECT -> CONNECT;
            case HELO -> HELO;
            case ENVELOPE_FROM -> ENVELOPE_FROM;
            case ENVELOPE_RECIPIENT -> ENVELOPE_RECIPIENT;
            case DATA -> DATA;
            case HEADER -> HEADER;
            case END_OF_HEADER -> END_OF_HEADER;
            case BODY -> BODY;
            case END_OF_MESSAGE -> END_OF_MESSAGE;
            case ABORT -> ABORT;
            case QUIT -> QUIT;
            case QUIT_NEW_CONNECTION -> QUIT_NEW_CONNECTION;
            case UNKNOWN -> UNKNOWN;
        };
    }
}
