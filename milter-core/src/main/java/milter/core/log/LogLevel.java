package milter.core.log;

/** Upstream's log level flags, each one bit of a level set. */
public enum LogLevel {
    CRITICAL("critical"),
    ERROR("error"),
    WARNING("warning"),
    MESSAGE("message"),
    INFO("info"),
    DEBUG("debug"),
    TRACE("trace"),
    STATISTICS("statistics"),
    PROFILE("profile");

    private final String nick;

    LogLevel(String nick) {
        this.nick = nick;
    }

    public String nick() {
        return nick;
    }

    public int bit() {
        return 1 << ordinal();
    }
}
