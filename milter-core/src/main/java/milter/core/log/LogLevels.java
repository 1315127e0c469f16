package milter.core.log;

import java.util.Locale;

/** Parses and renders upstream level sets: {@code default|none|critical|...|all}, combined with {@code |}. */
public final class LogLevels {
    public static final int NONE = 0;
    public static final int ALL = (1 << LogLevel.values().length) - 1;
    /** critical, error, warning, message and statistics, as upstream's {@code default}. */
    public static final int DEFAULT = LogLevel.CRITICAL.bit() | LogLevel.ERROR.bit() | LogLevel.WARNING.bit()
            | LogLevel.MESSAGE.bit() | LogLevel.STATISTICS.bit();

    private LogLevels() {
    }

    /**
     * Parses a level set. An empty text means {@code default}.
     *
     * @throws IllegalArgumentException naming the unknown level
     */
    public static int parse(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        int mask = 0;
        for (String part : text.split("\\|")) {
            String nick = part.trim().toLowerCase(Locale.ROOT);
            switch (nick) {
                case "all" -> mask |= ALL;
                case "none" -> mask |= NONE;
                case "default" -> mask |= DEFAULT;
                default -> {
                    LogLevel found = null;
                    for (LogLevel level : LogLevel.values()) {
                        if (level.nick().equals(nick)) {
                            found = level;
                        }
                    }
                    if (found == null) {
                        throw new IllegalArgumentException("unknown log level: <" + part.trim()
                                + ">: should be combination of default, none, critical, error, warning, message,"
                                + " info, debug, trace, statistics, profile and all");
                    }
                    mask |= found.bit();
                }
            }
        }
        return mask;
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
}
