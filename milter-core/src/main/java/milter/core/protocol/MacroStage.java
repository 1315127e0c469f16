package milter.core.protocol;

/** The {@code SMFIM_*} stages a milter may request macro lists for in its negotiate reply. */
public enum MacroStage {
    CONNECT(0, CommandType.CONNECT),
    HELO(1, CommandType.HELO),
    ENVELOPE_FROM(2, CommandType.ENVELOPE_FROM),
    ENVELOPE_RECIPIENT(3, CommandType.ENVELOPE_RECIPIENT),
    DATA(4, CommandType.DATA),
    END_OF_MESSAGE(5, CommandType.END_OF_MESSAGE),
    END_OF_HEADER(6, CommandType.END_OF_HEADER);

    private final int value;
    private final CommandType command;

    MacroStage(int value, CommandType command) {
        this.value = value;
        this.command = command;
    }

    public int value() {
        return value;
    }

    public CommandType command() {
        return command;
    }

    /** The stage for a wire value, or null when unknown. */
    public static MacroStage fromValue(int value) {
        for (MacroStage stage : values()) {
            if (stage.value == value) {
                return stage;
            }
        }
        return null;
    }

    /** The stage whose macros precede a command, or null when that command has no requestable list. */
    public static MacroStage forCommand(CommandType command) {
        return command == null ? null : BY_COMMAND[command.ordinal()];
    }

    /** The stage of each command (by ordinal), for the lookup done with every macro packet. */
    private static final MacroStage[] BY_COMMAND = new MacroStage[CommandType.values().length];

    static {
        for (MacroStage stage : values()) {
            if (stage.command != null && BY_COMMAND[stage.command.ordinal()] == null) {
                BY_COMMAND[stage.command.ordinal()] = stage;
            }
        }
    }
}
