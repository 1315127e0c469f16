package milter.manager;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.config.Egg;

/**
 * One child milter within one session: the egg it was hatched from, its connection, and where it stands in the
 * session and the current message. Touched only by the session's event loop.
 */
final class Child {
    enum State {
        CONNECTING, NEGOTIATED, QUITTED
    }

    final Egg egg;
    final long tag;
    final List<ApplicableCondition> conditions;
    ChildChannel channel;
    State state = State.CONNECTING;
    boolean connectRetried;

    /** Took part in the current message (answered MAIL with continue and has not left it). */
    boolean inMessage;
    /** Accepted at least one recipient of the current message. */
    boolean recipientAccepted;
    /** Answered skip to a body chunk: gets no more body in this message. */
    boolean bodySkipped;

    /** Last real status the child answered (what {@code context.reject?} and friends look at). */
    Status lastStatus;
    /** Last stage sent to the child (or stopped at), for statistics; null before anything was sent. */
    CommandType lastStage;
    /**
     * The status {@code [milter][end]} reports, kept as upstream's server context keeps it: reset when MAIL is
     * sent, set by every final answer except a refused recipient, {@code abort} when the message is aborted while
     * the child was passing it, {@code stop} when a condition stopped it, {@code error} when it failed.
     */
    Status status = Status.NOT_CHANGE;
    /** A refused recipient's status, reported instead of abort when the message is aborted at RCPT. */
    private Status recipientStatus;
    boolean endReported;
    /** Time spent waiting for this child's replies. */
    long waitNanos;
    long sentAt;

    /** Macros set by applicable conditions, per stage; they travel with the next command of that stage. */
    final EnumMap<CommandType, Map<String, String>> conditionMacros = new EnumMap<>(CommandType.class);

    Child(Egg egg, long tag, List<ApplicableCondition> conditions) {
        this.egg = egg;
        this.tag = tag;
        this.conditions = conditions;
    }

    String name() {
        return egg.name();
    }

    boolean alive() {
        return state == State.NEGOTIATED;
    }

    boolean quitted() {
        return state == State.QUITTED;
    }

    Option option() {
        return channel == null ? null : channel.option();
    }

    boolean negotiated(int protocolFlag) {
        Option option = option();
        return option != null && (option.protocol() & protocolFlag) != 0;
    }

    boolean wantsLeadingSpace() {
        return negotiated(ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE);
    }

    boolean hasStopper(CommandType stage) {
        for (ApplicableCondition condition : conditions) {
            if (condition.hasStopper(stage)) {
                return true;
            }
        }
        return false;
    }

    void setConditionMacro(CommandType stage, String name, String value) {
        conditionMacros.computeIfAbsent(stage, s -> new LinkedHashMap<>()).put(name, value);
    }

    void startWaiting() {
        sentAt = System.nanoTime();
    }

    /** Whether an answer of the child is outstanding. */
    boolean waiting() {
        return sentAt != 0;
    }

    void stopWaiting() {
        if (sentAt != 0) {
            waitNanos += System.nanoTime() - sentAt;
            sentAt = 0;
        }
    }

    void sent(CommandType stage) {
        lastStage = stage;
        if (stage == CommandType.ENVELOPE_FROM) {
            status = Status.NOT_CHANGE;
            recipientStatus = null;
        }
    }

    void answered(CommandType stage, Status answer) {
        lastStatus = answer;
        if (stage == CommandType.ENVELOPE_RECIPIENT
                && (answer == Status.REJECT || answer == Status.TEMPORARY_FAILURE)) {
            recipientStatus = answer;
        } else {
            status = answer;
        }
    }

    void stopped(CommandType stage) {
        lastStage = stage;
        status = Status.STOP;
    }

    void aborted() {
        if (status.isPass() && lastStage != null && lastStage != CommandType.END_OF_MESSAGE
                && lastStage != CommandType.NEGOTIATE) {
            status = lastStage == CommandType.ENVELOPE_RECIPIENT && recipientStatus != null
                    ? recipientStatus : Status.ABORT;
        }
    }

    void resetMessage() {
        inMessage = false;
        recipientAccepted = false;
        bodySkipped = false;
    }
}
