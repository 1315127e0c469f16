package milter.manager.config.ruby;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import milter.manager.config.Egg;

/**
 * A milter being defined ({@code define_milter(NAME) {|milter| ...}}): the mutable state behind the Ruby
 * {@code milter} object, turned into an {@link Egg} when the block ends.
 */
public final class EggDraft {
    static final List<String> KEYS = List.of("connection_spec", "description", "enabled", "fallback_status",
            "evaluation_mode", "command", "command_options", "user_name", "connection_timeout", "writing_timeout",
            "reading_timeout", "end_of_message_timeout");

    private final String name;
    private final boolean redefinition;
    private final Set<String> assigned = new HashSet<>();
    private ConnectionSpec connectionSpec;
    private String description;
    private boolean enabled = true;
    private Status fallbackStatus = Status.ACCEPT;
    private boolean evaluationMode;
    private final List<String> conditions = new ArrayList<>();
    private String command;
    private String commandOptions;
    private String userName;
    private double connectionTimeout = Egg.DEFAULT_CONNECTION_TIMEOUT;
    private double writingTimeout = Egg.DEFAULT_WRITING_TIMEOUT;
    private double readingTimeout = Egg.DEFAULT_READING_TIMEOUT;
    private double endOfMessageTimeout = Egg.DEFAULT_END_OF_MESSAGE_TIMEOUT;

    private EggDraft(String name, boolean redefinition) {
        this.name = name;
        this.redefinition = redefinition;
    }

    static EggDraft fresh(String name) {
        return new EggDraft(name, false);
    }

    /**
     * A redefinition as upstream does it: only the connection spec, timeouts, description, enabled flag, user
     * name, command (with its options when a command is set) and conditions are kept; fallback status and
     * evaluation mode fall back to their defaults.
     */
    static EggDraft redefining(Egg existing) {
        EggDraft draft = new EggDraft(existing.name(), true);
        if (existing.connectionSpec() != null) {
            draft.connectionSpec = existing.connectionSpec();
        }
        draft.connectionTimeout = existing.connectionTimeout();
        draft.writingTimeout = existing.writingTimeout();
        draft.readingTimeout = existing.readingTimeout();
        draft.endOfMessageTimeout = existing.endOfMessageTimeout();
        if (existing.description() != null) {
            draft.description = existing.description();
        }
        draft.enabled = existing.enabled();
        if (existing.userName() != null) {
            draft.userName = existing.userName();
        }
        if (existing.command() != null) {
            draft.command = existing.command();
            draft.commandOptions = existing.commandOptions();
        }
        draft.conditions.addAll(existing.applicableConditions());
        return draft;
    }

    /** Every field kept: used when the manager itself amends a milter (policies). */
    static EggDraft amending(Egg existing) {
        EggDraft draft = redefining(existing);
        draft.fallbackStatus = existing.fallbackStatus();
        draft.evaluationMode = existing.evaluationMode();
        draft.commandOptions = existing.commandOptions();
        draft.assigned.add("fallback_status");
        draft.assigned.add("evaluation_mode");
        return draft;
    }

    public String name() {
        return name;
    }

    boolean redefinition() {
        return redefinition;
    }

    boolean assigned(String key) {
        return assigned.contains(key);
    }

    /** The current value for Ruby: strings, booleans, floats, a status nick, a spec's text; nil when unset. */
    public Object get(String key) {
        switch (key) {
            case "name":
                return name;
            case "connection_spec":
                return connectionSpec == null ? null : connectionSpec.toString();
            case "description":
                return description;
            case "enabled":
                return enabled;
            case "fallback_status":
                return fallbackStatus.nick();
            case "evaluation_mode":
                return evaluationMode;
            case "command":
                return command;
            case "command_options":
                return commandOptions;
            case "user_name":
                return userName;
            case "connection_timeout":
                return connectionTimeout;
            case "writing_timeout":
                return writingTimeout;
            case "reading_timeout":
                return readingTimeout;
            case "end_of_message_timeout":
                return endOfMessageTimeout;
            default:
                throw new IllegalArgumentException("unknown milter key: " + key);
        }
    }

    /**
     * Sets a value; null resets it to the default.
     *
     * @param inspected the value as Ruby's {@code inspect} shows it, for the error message
     * @return null, or upstream-style {@code milter.KEY should be ... but was VALUE}
     */
    public String set(String key, Object value, String inspected) {
        try {
            apply(key, value);
        } catch (IllegalArgumentException e) {
            String detail = e.getMessage() == null || e.getMessage().isEmpty() ? "" : " (" + e.getMessage() + ")";
            return "milter." + key + " " + expectation(key) + " but was " + inspected
                    + (key.equals("connection_spec") ? detail : "");
        }
        assigned.add(key);
        return null;
    }

    private void apply(String key, Object value) {
        switch (key) {
            case "connection_spec":
                connectionSpec = value == null ? null : ConnectionSpec.parse(value.toString());
                break;
            case "description":
                description = text(value);
                break;
            case "enabled":
                enabled = value == null || bool(value);
                break;
            case "fallback_status":
                fallbackStatus = value == null ? Status.ACCEPT : Status.fallbackFromNick(value.toString());
                break;
            case "evaluation_mode":
                evaluationMode = value != null && bool(value);
                break;
            case "command":
                command = text(value);
                break;
            case "command_options":
                commandOptions = text(value);
                break;
            case "user_name":
                userName = text(value);
                break;
            case "connection_timeout":
                connectionTimeout = value == null ? Egg.DEFAULT_CONNECTION_TIMEOUT : seconds(value);
                break;
            case "writing_timeout":
                writingTimeout = value == null ? Egg.DEFAULT_WRITING_TIMEOUT : seconds(value);
                break;
            case "reading_timeout":
                readingTimeout = value == null ? Egg.DEFAULT_READING_TIMEOUT : seconds(value);
                break;
            case "end_of_message_timeout":
                endOfMessageTimeout = value == null ? Egg.DEFAULT_END_OF_MESSAGE_TIMEOUT : seconds(value);
                break;
            default:
                throw new IllegalStateException("unknown milter key: " + key);
        }
    }

    private static String expectation(String key) {
        switch (key) {
            case "connection_spec":
                return "should be a connection spec (unix:PATH, inet:PORT@HOST, inet6:PORT@HOST)";
            case "enabled":
            case "evaluation_mode":
                return "should be one of [true, false]";
            case "fallback_status":
                return "should be one of [accept, temporary-failure, reject, discard]";
            default:
                return "should be a number of seconds";
        }
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }

    static boolean bool(Object value) {
        if (value instanceof Boolean) {
            return (Boolean) value;
        }
        String text = value.toString().trim().toLowerCase(Locale.ROOT);
        if (text.equals("true") || text.equals("yes")) {
            return true;
        }
        if (text.equals("false") || text.equals("no")) {
            return false;
        }
        throw new IllegalArgumentException("");
    }

    private static double seconds(Object value) {
        double seconds;
        if (value instanceof Number) {
            seconds = ((Number) value).doubleValue();
        } else {
            try {
                seconds = Double.parseDouble(value.toString().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("", e);
            }
        }
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            throw new IllegalArgumentException("");
        }
        return seconds;
    }

    public List<String> conditions() {
        return List.copyOf(conditions);
    }

    void setConditions(List<String> names) {
        conditions.clear();
        conditions.addAll(names);
    }

    void addCondition(String condition) {
        conditions.add(condition);
    }

    Egg build() {
        return Egg.builder(name)
                .connectionSpec(connectionSpec)
                .description(description)
                .enabled(enabled)
                .fallbackStatus(fallbackStatus)
                .evaluationMode(evaluationMode)
                .applicableConditions(conditions)
                .command(command)
                .commandOptions(commandOptions)
                .userName(userName)
                .connectionTimeout(connectionTimeout)
                .writingTimeout(writingTimeout)
                .readingTimeout(readingTimeout)
                .endOfMessageTimeout(endOfMessageTimeout)
                .build();
    }
}
