package milter.core.log;

import java.util.Locale;

/**
 * Parses and renders upstream level sets: {@code default|none|critical|...|all}, combined with {@code |}.
 *
 * <p>{@code default} is critical, error, warning, message and statistics: that is what upstream's code
 * ({@code milter/core/milter-logger.c}) enables, although upstream's log list says critical, error and
 * warning. The code wins because it is what running daemons do.
 *
 * <p>As upstream, a name may carry a {@code +} (add, the normal case) or {@code -} (remove) prefix, and a
 * text that starts with {@code +} or {@code -} modifies a base set instead of starting from nothing:
 * {@code +info} is "the current set and info", {@code -statistics} "the current set without statistics",
 * {@code all|-trace} "everything but trace".
 */
public final class LogLevels {
    public static final int NONE = 0;
    public static final int ALL = (1 << LogLevel.values().length) - 1;
    /** critical, error, warning, message and statistics, as upstream's {@code default}. */
    public static final int DEFAULT = LogLevel.CRITICAL.bit() | LogLevel.ERROR.bit() | LogLevel.WARNING.bit()
            | LogLevel.MESSAGE.bit() | LogLevel.STATISTICS.bit();

    private static final String NAMES = "default, none, critical, error, warning, message, info, debug, trace,"
            + " statistics, profile and all";

    private LogLevels() {
    }

    /**
     * Parses a level set; a text starting with {@code +} or {@code -} modifies {@link #DEFAULT}. A null or
     * blank text means {@code default}.
     *
     * @throws IllegalArgumentException naming every unknown level
     */
    public static int parse(String text) {
        return parse(text, DEFAULT);
    }

    /**
     * Parses a level set; a text starting with {@code +} or {@code -} modifies {@code base}. A null or blank
     * text means {@code default}.
     *
     * @throws IllegalArgumentException naming every unknown level
     */
    public static int parse(String text, int base) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        String rest = text.trim();
        int mask = 0;
        boolean add = true;
        if (rest.charAt(0) == '+' || rest.charAt(0) == '-') {
            add = rest.charAt(0) == '+';
            mask = base;
            rest = rest.substring(1);
        }
        StringBuilder unknown = null;
        for (String part : rest.split("\\|", -1)) {
            String name = part.trim();
            boolean partAdd = add;
            if (!name.isEmpty() && (name.charAt(0) == '+' || name.charAt(0) == '-')) {
                partAdd = name.charAt(0) == '+';
                name = name.substring(1);
            }
            int bits = bitsOf(name.toLowerCase(Locale.ROOT));
            if (bits < 0) {
                if (unknown == null) {
                    unknown = new StringBuilder();
                } else {
                    unknown.append('|');
                }
                unknown.append('<').append(name).append('>');
                continue;
            }
            mask = partAdd ? mask | bits : mask & ~bits;
        }
        if (unknown != null) {
            throw new IllegalArgumentException("unknown log level: " + unknown
                    + ": should be a combination of " + NAMES);
        }
        return mask;
    }

    /** Whether {@code mask} contains {@code level}. */
    public static boolean contains(int mask, LogLevel level) {
        return (mask & level.bit()) != 0;
    }

    /** Renders a mask as level nicks joined by {@code |}: {@code all}, {@code none} or {@code default} when exact. */
    public static String format(int mask) {
        if (mask == ALL) {
            return "all";
        }
        if (mask == NONE) {
            return "none";
        }
        if (mask == DEFAULT) {
            return "default";
        }
        StringBuilder out = new StringBuilder();
        for (LogLevel level : LogLevel.values()) {
            if ((mask & level.bit()) != 0) {
                if (out.length() > 0) {
                    out.append('|');
                }
                out.append(level.nick());
            }
        }
        return out.toString();
    }

    private static int bitsOf(String name) {
        switch (name) {
            case "all":
                return ALL;
            case "none":
                return NONE;
            case "default":
                return DEFAULT;
            default:
                LogLevel level = LogLevel.fromNick(name);
                return level == null ? -1 : level.bit();
        }
    }
}
