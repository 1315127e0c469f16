package milter.core.protocol;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The macros an MTA has defined in one session, kept per stage. A lookup merges the stages in protocol order
 * up to the current one (later stages win) and accepts {@code x} and {@code {x}} alike. Connection-level stages
 * (connect, helo) live for the connection; message stages are cleared when a message ends. Not thread-safe: a
 * session's macros are touched only by its event loop.
 */
public final class Macros {
    /** Stages in the order their macros accumulate during a session. */
    private static final CommandType[] ORDER = {
        CommandType.CONNECT, CommandType.HELO, CommandType.ENVELOPE_FROM, CommandType.ENVELOPE_RECIPIENT,
        CommandType.DATA, CommandType.HEADER, CommandType.END_OF_HEADER, CommandType.BODY,
        CommandType.END_OF_MESSAGE, CommandType.UNKNOWN,
    };

    private final EnumMap<CommandType, Map<String, String>> stages = new EnumMap<>(CommandType.class);

    /** Replaces the table of a stage with the given (wire-named) macros. */
    public void define(CommandType stage, Map<String, String> macros) {
        if (!stage.carriesMacros()) {
            throw new IllegalArgumentException("macros cannot be defined for " + stage.nick());
        }
        Map<String, String> table = new LinkedHashMap<>();
        macros.forEach((name, value) -> table.put(normalize(name), value));
        stages.put(stage, Collections.unmodifiableMap(table));
    }

    /** Sets one macro in a stage's table, keeping the others (the stage gets a new table). */
    public void set(CommandType stage, String name, String value) {
        Map<String, String> current = stages.get(stage);
        Map<String, String> table = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current);
        table.put(normalize(name), value);
        stages.put(stage, Collections.unmodifiableMap(table));
    }

    /**
     * The table of one stage (normalised names, read-only), or null when the MTA sent none. A table never changes:
     * new macros for the stage make a new table, so callers may keep what they derived from one while it is the
     * same object.
     */
    public Map<String, String> stage(CommandType stage) {
        return stages.get(stage);
    }

    /** Looks a macro up across every stage defined so far; later stages win. */
    public String get(String name) {
        return get(name, CommandType.UNKNOWN);
    }

    /** Looks a macro up across the stages up to and including {@code upTo}; later stages win. */
    public String get(String name, CommandType upTo) {
        String key = normalize(name);
        String found = null;
        for (CommandType stage : ORDER) {
            Map<String, String> table = stages.get(stage);
            if (table != null && table.containsKey(key)) {
                found = table.get(key);
            }
            if (stage == upTo) {
                break;
            }
        }
        return found;
    }

    /** Every visible macro up to {@code upTo}, merged, with normalised names. */
    public Map<String, String> visible(CommandType upTo) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (CommandType stage : ORDER) {
            Map<String, String> table = stages.get(stage);
            if (table != null) {
                merged.putAll(table);
            }
            if (stage == upTo) {
                break;
            }
        }
        return merged;
    }

    /** Drops the message-scoped stages (MAIL to end of message), as at abort or after end of message. */
    public void clearMessage() {
        for (CommandType stage : ORDER) {
            if (stage != CommandType.CONNECT && stage != CommandType.HELO && stage != CommandType.UNKNOWN) {
                stages.remove(stage);
            }
        }
    }

    /** Drops everything, as at quit. */
    public void clear() {
        stages.clear();
    }

    /** {@code {name}} and {@code name} are the same macro; the canonical form has no braces. */
    public static String normalize(String name) {
        if (name.length() >= 2 && name.charAt(0) == '{' && name.charAt(name.length() - 1) == '}') {
            return name.substring(1, name.length() - 1);
        }
        return name;
    }

    /** The wire form of a name: one-letter names bare, longer names in braces. */
    public static String wireName(String name) {
        String bare = normalize(name);
        return bare.length() == 1 ? bare : "{" + bare + "}";
    }
}
