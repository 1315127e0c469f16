package milter.core.log;

import java.util.Locale;

/**
 * The syslog facilities {@code log.syslog_facility} accepts, with their numbers. As upstream, {@code auth} means
 * {@code authpriv} (the private authentication log) and a name that is not known means {@code mail}; names are
 * matched ignoring case.
 */
public enum SyslogFacility {
    KERN("kern", 0),
    USER("user", 1),
    MAIL("mail", 2),
    DAEMON("daemon", 3),
    LPR("lpr", 6),
    NEWS("news", 7),
    UUCP("uucp", 8),
    CRON("cron", 9),
    AUTHPRIV("authpriv", 10),
    FTP("ftp", 11),
    LOCAL0("local0", 16),
    LOCAL1("local1", 17),
    LOCAL2("local2", 18),
    LOCAL3("local3", 19),
    LOCAL4("local4", 20),
    LOCAL5("local5", 21),
    LOCAL6("local6", 22),
    LOCAL7("local7", 23);

    private final String nick;
    private final int code;

    SyslogFacility(String nick, int code) {
        this.nick = nick;
        this.code = code;
    }

    public String nick() {
        return nick;
    }

    /** The facility number (the PRI value is {@code code * 8 + severity}). */
    public int code() {
        return code;
    }

    /** The PRI value of a line of {@code level} in this facility. */
    public int priority(LogLevel level) {
        return code * 8 + level.syslogSeverity();
    }

    /** The facility named {@code name}; {@code auth} gives {@link #AUTHPRIV}, null or unknown names {@link #MAIL}. */
    public static SyslogFacility parse(String name) {
        if (name == null) {
            return MAIL;
        }
        String lower = name.trim().toLowerCase(Locale.ROOT);
        if (lower.equals("auth")) {
            return AUTHPRIV;
        }
        for (SyslogFacility facility : values()) {
            if (facility.nick.equals(lower)) {
                return facility;
            }
        }
        return MAIL;
    }
}
