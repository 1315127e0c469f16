package milter.core.protocol;

import java.util.Locale;

/**
 * Statuses with upstream's nicks. {@link #compareSeverity} is the order used to merge child verdicts:
 * discard &gt; reject &gt; temporary-failure &gt; continue &gt; skip &gt; accept &gt; everything else.
 */
public enum Status {
    DEFAULT("default", 0),
    NOT_CHANGE("not-change", 0),
    CONTINUE("continue", 3),
    REJECT("reject", 5),
    DISCARD("discard", 6),
    ACCEPT("accept", 1),
    TEMPORARY_FAILURE("temporary-failure", 4),
    NO_REPLY("no-reply", 0),
    SKIP("skip", 2),
    ALL_OPTIONS("all-options", 0),
    PROGRESS("progress", 0),
    ABORT("abort", 0),
    QUARANTINE("quarantine", 0),
    STOP("stop", 0),
    ERROR("error", 0);

    private final String nick;
    private final int severity;

    Status(String nick, int severity) {
        this.nick = nick;
        this.severity = severity;
    }

    public String nick() {
        return nick;
    }

    /** True for the statuses upstream reports as "pass" in statistics (default, not-change, continue). */
    public boolean isPass() {
        return this == DEFAULT || this == NOT_CHANGE || this == CONTINUE;
    }

    /**
     * Upstream's {@code milter_status_compare}: positive when {@code current} outranks {@code candidate},
     * zero when equal, negative when {@code candidate} should replace {@code current}. Two statuses without
     * severity compare as "candidate wins", as upstream does.
     */
    public static int compareSeverity(Status current, Status candidate) {
        if (current == candidate) {
            return 0;
        }
        if (current.severity == 0) {
            return -1;
        }
        return current.severity > candidate.severity ? 1 : -1;
    }

    /** The more severe of the two; {@code candidate} wins ties between statuses without severity. */
    public static Status moreSevere(Status current, Status candidate) {
        return compareSeverity(current, candidate) < 0 ? candidate : current;
    }

    /** Parses a nick; {@code _} is accepted for {@code -} and case is ignored, as in upstream's configuration. */
    public static Status fromNick(String nick) {
        String normalized = nick.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Status status : values()) {
            if (status.nick.equals(normalized)) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown status: <" + nick + ">");
    }

    /** The statuses a fallback may be set to. */
    public static Status fallbackFromNick(String nick) {
        Status status = fromNick(nick);
        return switch (status) {
            case ACCEPT, TEMPORARY_FAILURE, REJECT, DISCARD -> status;
            default -> throw new IllegalArgumentException(
                    "fallback status should be one of [accept, temporary-failure, reject, discard] but was <"
                            + nick + ">");
        };
    }
}
