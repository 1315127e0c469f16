package milter.manager.metrics;

import milter.core.protocol.Reply;

/** What a reply means for counting: the session's final status, or a child's answer. */
enum Verdict {
    CONTINUE("continue"), ACCEPT("accept"), REJECT("reject"), TEMPORARY_FAILURE("temporary-failure"),
    DISCARD("discard"), SKIP("skip"), OTHER("other");

    private final String label;

    Verdict(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }

    /** {@code pass} for continue, as upstream's statistics lines say it. */
    String sessionLabel() {
        return this == CONTINUE || this == SKIP ? "pass" : label;
    }

    static Verdict of(Reply reply) {
        if (reply == null || reply instanceof Reply.Continue || reply instanceof Reply.Progress) {
            return CONTINUE;
        }
        if (reply instanceof Reply.Accept) {
            return ACCEPT;
        }
        if (reply instanceof Reply.Reject) {
            return REJECT;
        }
        if (reply instanceof Reply.TemporaryFailure) {
            return TEMPORARY_FAILURE;
        }
        if (reply instanceof Reply.Discard) {
            return DISCARD;
        }
        if (reply instanceof Reply.Skip) {
            return SKIP;
        }
        if (reply instanceof Reply.ReplyCode code) {
            return code.reply().startsWith("4") ? TEMPORARY_FAILURE : REJECT;
        }
        return OTHER;
    }
}
