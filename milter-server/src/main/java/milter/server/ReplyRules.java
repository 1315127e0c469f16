package milter.server;

import java.util.ArrayList;
import java.util.List;
import milter.core.protocol.CommandType;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyType;

/** Which replies may answer which command (milter-protocol.md §3.1 and §5.2). */
final class ReplyRules {
    private static final String ANY_EVENT = "connect, helo, envelope-from, envelope-recipient, data, header, "
            + "end-of-header, body, end-of-message, unknown";

    private ReplyRules() {
    }

    /** Upstream's nick for a reply as it appears in log tags. */
    static String nick(Reply reply) {
        if (reply instanceof Reply.Negotiate) {
            return "negotiate-reply";
        }
        if (reply instanceof Reply.ChangeHeader change && change.isDelete()) {
            return "delete-header";
        }
        return reply.type().nick();
    }

    /** Whether {@code reply} ends the processing of a command of {@code command} (ignoring action flags). */
    static boolean isLegalFinal(CommandType command, ReplyType reply, int protocol) {
        switch (reply) {
            case CONTINUE:
            case ACCEPT:
            case REJECT:
            case TEMPORARY_FAILURE:
            case DISCARD:
            case REPLY_CODE:
            case CONNECTION_FAILURE:
            case SHUTDOWN:
                return command != CommandType.NEGOTIATE;
            case SKIP:
                return command == CommandType.BODY && (protocol & ProtocolFlags.SKIP) != 0;
            default:
                return false;
        }
    }

    /** The states (upstream's wording) where a reply of that type may come. */
    static String legalStates(ReplyType reply) {
        switch (reply) {
            case NEGOTIATE:
                return "negotiate";
            case SKIP:
                return "body (with skip negotiated)";
            case SET_SYMBOL_LIST:
                return "none";
            default:
                return reply.isModification() || reply == ReplyType.PROGRESS ? "end-of-message" : ANY_EVENT;
        }
    }

    /** The replies a command may get, for error messages; empty when no reply is expected. */
    static List<String> expected(CommandType command, int protocol) {
        List<String> out = new ArrayList<>();
        if (command == null) {
            return out;
        }
        if (command == CommandType.NEGOTIATE) {
            out.add("negotiate-reply");
            return out;
        }
        for (ReplyType type : ReplyType.values()) {
            if (isLegalFinal(command, type, protocol)) {
                out.add(type.nick());
            }
        }
        if (command == CommandType.END_OF_MESSAGE) {
            out.add(ReplyType.PROGRESS.nick());
            for (ReplyType type : ReplyType.values()) {
                if (type.isModification() && type != ReplyType.ADD_RECIPIENT_WITH_PARAMETERS) {
                    out.add(type.nick());
                }
            }
        }
        return out;
    }
}
