package milter.core.log;

import java.util.Locale;

/** How the main output (standard output or the log file) writes lines: upstream's tagged text, or JSON lines. */
public enum LogFormat {
    /** {@code [TIME]: [SESSION] [tag][tag] message}, as upstream. */
    TEXT("text"),
    /** One JSON object per line ({@link JsonLineLayout}). */
    JSON("json");

    private final String nick;

    LogFormat(String nick) {
        this.nick = nick;
    }

    public String nick() {
        return nick;
    }

    /**
     * @throws IllegalArgumentException for anything but {@code text} or {@code json} (case-insensitive)
     */
    public static LogFormat parse(String text) {
        String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        for (LogFormat format : values()) {
            if (format.nick.equals(value)) {
                return format;
            }
        }
        throw new IllegalArgumentException("log format should be one of [text, json] but was <" + text + ">");
    }
}
