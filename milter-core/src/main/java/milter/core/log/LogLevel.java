package milter.core.log;

/**
 * Upstream's log level flags, each one bit of a level set. The order is upstream's flag order, which is also
 * the order {@link LogLevels#format(int)} writes them in.
 */
public enum LogLevel {
    CRITICAL("critical", 2),
    ERROR("error", 3),
    WARNING("warning", 4),
    MESSAGE("message", 5),
    INFO("info", 6),
    DEBUG("debug", 7),
    TRACE("trace", 7),
    STATISTICS("statistics", 5),
    PROFILE("profile", 7);

    private static final LogLevel[] VALUES = values();

    private final String nick;
    private final int syslogSeverity;

    LogLevel(String nick, int syslogSeverity) {
        this.nick = nick;
        this.syslogSeverity = syslogSeverity;
    }

    public String nick() {
        return nick;
    }

    public int bit() {
        return 1 << ordinal();
    }

    /**
     * The syslog severity upstream maps this level to: critical → CRIT (2), error → ERR (3), warning → WARNING
     * (4), message and statistics → NOTICE (5), info → INFO (6), debug, trace and profile → DEBUG (7).
     */
    public int syslogSeverity() {
        return syslogSeverity;
    }

    /** The level with this nick (exact, lower case), or null. */
    public static LogLevel fromNick(String nick) {
        for (LogLevel level : VALUES) {
            if (level.nick.equals(nick)) {
                return level;
            }
        }
        return null;
    }
}
