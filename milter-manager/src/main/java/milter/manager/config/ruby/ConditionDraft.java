package milter.manager.config.ruby;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import milter.core.protocol.CommandType;
import org.jruby.RubyProc;

/**
 * An applicable condition being defined ({@code define_applicable_condition(NAME) {|condition| ...}}). Only the
 * description of an earlier definition of the same name survives; its stoppers do not.
 */
public final class ConditionDraft {
    private final String name;
    private String description;
    private final Map<CommandType, List<RubyProc>> stoppers = new EnumMap<>(CommandType.class);

    ConditionDraft(String name, String description) {
        this.name = name;
        this.description = description;
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    public void setDescription(String description) {
        this.description = description;
    }

    /**
     * Adds a stopper block for a stage named as in the DSL ({@code connect}, {@code helo}, {@code envelope_from},
     * {@code envelope_recipient}, {@code data}, {@code header}, {@code end_of_header}, {@code body},
     * {@code end_of_message}).
     */
    public void addStopper(String stage, RubyProc stopper) {
        stoppers.computeIfAbsent(stage(stage), s -> new ArrayList<>()).add(stopper);
    }

    public boolean hasStopper() {
        return !stoppers.isEmpty();
    }

    Map<CommandType, List<RubyProc>> stoppers() {
        return stoppers;
    }

    static CommandType stage(String stage) {
        switch (stage) {
            case "connect":
                return CommandType.CONNECT;
            case "helo":
                return CommandType.HELO;
            case "envelope_from":
                return CommandType.ENVELOPE_FROM;
            case "envelope_recipient":
                return CommandType.ENVELOPE_RECIPIENT;
            case "data":
                return CommandType.DATA;
            case "header":
                return CommandType.HEADER;
            case "end_of_header":
                return CommandType.END_OF_HEADER;
            case "body":
                return CommandType.BODY;
            case "end_of_message":
                return CommandType.END_OF_MESSAGE;
            default:
                throw new IllegalArgumentException("unknown stopper stage: " + stage);
        }
    }
}
