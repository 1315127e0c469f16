package milter.server;

import milter.core.protocol.Reply;
import milter.core.protocol.Status;

/** The status a final reply stands for, in upstream's vocabulary. */
public final class ReplyStatus {
    private ReplyStatus() {
    }

    /**
     * The status of a reply: continue, accept, reject, temporary-failure, discard, skip, progress, quarantine;
     * a reply code by its class; {@code f} is error and {@code 4} (421 and disconnect) temporary-failure;
     * other modifications are not-change.
     */
    public static Status of(Reply reply) {
        switch (reply.type()) {
            case CONTINUE:
                return Status.CONTINUE;
            case ACCEPT:
                return Status.ACCEPT;
            case REJECT:
                return Status.REJECT;
            case TEMPORARY_FAILURE:
                return Status.TEMPORARY_FAILURE;
            case DISCARD:
                return Status.DISCARD;
            case REPLY_CODE:
                return ((Reply.ReplyCode) reply).status();
            case SKIP:
                return Status.SKIP;
            case PROGRESS:
                return Status.PROGRESS;
            case QUARANTINE:
                return Status.QUARANTINE;
            case CONNECTION_FAILURE:
                return Status.ERROR;
            case SHUTDOWN:
                return Status.TEMPORARY_FAILURE;
            default:
                return Status.NOT_CHANGE;
        }
    }
}
