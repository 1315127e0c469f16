package milter.client;

import milter.core.protocol.CommandType;
import milter.core.protocol.ProtocolFlags;

/**
 * Where a connection is in the milter protocol, with libmilter's transition table (spec section 5.3). The order of
 * the constants from {@link #NEGOTIATED} to {@link #END_OF_MESSAGE} is the order of a session: a state whose event
 * is skipped may be passed over on the way to the next one.
 */
enum SessionState {
    INIT("init", null),
    NEGOTIATED("negotiate", CommandType.NEGOTIATE),
    CONNECT("connect", CommandType.CONNECT),
    HELO("helo", CommandType.HELO),
    ENVELOPE_FROM("envelope-from", CommandType.ENVELOPE_FROM),
    ENVELOPE_RECIPIENT("envelope-recipient", CommandType.ENVELOPE_RECIPIENT),
    DATA("data", CommandType.DATA),
    HEADER("header", CommandType.HEADER),
    END_OF_HEADER("end-of-header", CommandType.END_OF_HEADER),
    BODY("body", CommandType.BODY),
    END_OF_MESSAGE("end-of-message", CommandType.END_OF_MESSAGE),
    UNKNOWN("unknown", CommandType.UNKNOWN),
    QUIT_NEW_CONNECTION("quit-new-connection", CommandType.QUIT_NEW_CONNECTION),
    QUIT("quit", CommandType.QUIT);

    private final String nick;
    private final CommandType command;
    private long next;

    /** The states in declaration order, and the state each command leads to: looked up for every command. */
    private static final SessionState[] ALL = values();
    private static final SessionState[] BY_COMMAND = new SessionState[CommandType.values().length];

    static {
        for (SessionState state : ALL) {
            if (state.command != null) {
                BY_COMMAND[state.command.ordinal()] = state;
            }
        }
        allow(NEGOTIATED, CONNECT, UNKNOWN);
        allow(CONNECT, HELO, ENVELOPE_FROM, UNKNOWN);
        allow(HELO, HELO, ENVELOPE_FROM, UNKNOWN);
        allow(ENVELOPE_FROM, ENVELOPE_RECIPIENT, UNKNOWN);
        allow(ENVELOPE_RECIPIENT, ENVELOPE_RECIPIENT, DATA, HEADER, END_OF_HEADER, BODY, END_OF_MESSAGE, UNKNOWN);
        allow(DATA, HEADER, END_OF_HEADER);
        allow(HEADER, HEADER, END_OF_HEADER);
        allow(END_OF_HEADER, BODY, END_OF_MESSAGE);
        allow(BODY, BODY, END_OF_MESSAGE);
        allow(END_OF_MESSAGE, ENVELOPE_FROM, UNKNOWN);
        allow(UNKNOWN, HELO, ENVELOPE_FROM, ENVELOPE_RECIPIENT, DATA, BODY, UNKNOWN);
        allow(QUIT_NEW_CONNECTION, CONNECT, UNKNOWN);
    }

    SessionState(String nick, CommandType command) {
        this.nick = nick;
        this.command = command;
    }

    private static void allow(SessionState from, SessionState... to) {
        for (SessionState state : to) {
            from.next |= 1L << state.ordinal();
        }
    }

    String nick() {
        return nick;
    }

    /** The state a reply-expecting command leads to. */
    static SessionState of(CommandType command) {
        SessionState state = command == null ? null : BY_COMMAND[command.ordinal()];
        if (state == null) {
            throw new IllegalArgumentException("no state for " + command);
        }
        return state;
    }

    /** Whether this state is inside a message transaction (an abort then reaches the milter). */
    boolean inMessage() {
        return ordinal() >= ENVELOPE_FROM.ordinal() && ordinal() <= BODY.ordinal();
    }

    /**
     * Whether {@code target} may follow this state, passing over states whose events the MTA will not send:
     * those skipped by a negotiated no-event flag, and HELO and DATA, which SMTP clients and old MTAs omit.
     */
    boolean reaches(SessionState target, int protocol) {
        SessionState at = this;
        while (true) {
            if ((at.next & (1L << target.ordinal())) != 0) {
                return true;
            }
            if (at.ordinal() < NEGOTIATED.ordinal() || at.ordinal() >= BODY.ordinal()) {
                return false;
            }
            SessionState following = ALL[at.ordinal() + 1];
            if (!following.skippable(protocol)) {
                return false;
            }
            at = following;
        }
    }

    private boolean skippable(int protocol) {
        if (this == HELO || this == DATA) {
            return true;
        }
        int flag = ProtocolFlags.noEventFlag(command);
        return flag != 0 && (protocol & flag) != 0;
    }

    /** The nicks of the commands that may follow, for error messages. */
    String expected(int protocol) {
        StringBuilder out = new StringBuilder();
        for (SessionState state : values()) {
            if (state.command != null && state != NEGOTIATED && reaches(state, protocol)) {
                if (out.length() > 0) {
                    out.append(", ");
                }
                out.append(state.nick);
            }
        }
        return out.toString();
    }
}
