package milter.core.log;

import java.util.Map;

/**
 * The environment variables that concern logging (spec §6.6), read once:
 * <ul>
 *   <li>{@code MILTER_LOG_LEVEL}: the initial level set (the command line and the configuration replace it);
 *       {@code +name}/{@code -name} modify {@code default};</li>
 *   <li>{@code MILTER_LOG_PATH}: the initial log file ({@code -} is standard output);</li>
 *   <li>{@code MILTER_LOG_SYSLOG_FACILITY}: the syslog facility, beating the configuration;</li>
 *   <li>{@code MILTER_LOG_SYSLOG_LEVEL}: a level set for syslog alone (otherwise syslog follows the main one).</li>
 * </ul>
 * An invalid level set is reported as upstream does ({@code [logger][level][set][warning] ...},
 * {@code [syslog-logger][level][set][warning] ...}) and ignored.
 */
public record LogEnvironment(String level, String path, String syslogFacility, String syslogLevel) {
    public static final String LEVEL = "MILTER_LOG_LEVEL";
    public static final String PATH = "MILTER_LOG_PATH";
    public static final String SYSLOG_FACILITY = "MILTER_LOG_SYSLOG_FACILITY";
    public static final String SYSLOG_LEVEL = "MILTER_LOG_SYSLOG_LEVEL";

    /** Reads the variables from {@code env}; absent ones are null. */
    public static LogEnvironment of(Map<String, String> env) {
        return new LogEnvironment(env.get(LEVEL), env.get(PATH), env.get(SYSLOG_FACILITY), env.get(SYSLOG_LEVEL));
    }

    /** Reads the process environment. */
    public static LogEnvironment current() {
        return of(System.getenv());
    }

    /** The initial level set: {@code MILTER_LOG_LEVEL} applied to {@code base}, or {@code base}. */
    public int levels(int base) {
        return levels(base, Warning.LOG);
    }

    /** As {@link #levels(int)}, reporting a bad value as (tags, message) to {@code warning}. */
    public int levels(int base, Warning warning) {
        if (level == null) {
            return base;
        }
        try {
            return LogLevels.parse(level, base);
        } catch (IllegalArgumentException e) {
            warning.report("[logger][level][set][warning]", e.getMessage());
            return base;
        }
    }

    /** The initial log path: {@code MILTER_LOG_PATH}, or {@code fallback}. */
    public String path(String fallback) {
        return path == null ? fallback : path;
    }

    /** The syslog facility: {@code MILTER_LOG_SYSLOG_FACILITY} when set, else the configured one. */
    public SyslogFacility syslogFacility(String configured) {
        return SyslogFacility.parse(syslogFacility != null ? syslogFacility : configured);
    }

    /** Syslog's own level set from {@code MILTER_LOG_SYSLOG_LEVEL}, or {@link TaggedLogger#FOLLOW_MAIN}. */
    public int syslogLevels() {
        return syslogLevels(Warning.LOG);
    }

    /** As {@link #syslogLevels()}, reporting a bad value as (tags, message) to {@code warning}. */
    public int syslogLevels(Warning warning) {
        if (syslogLevel == null) {
            return TaggedLogger.FOLLOW_MAIN;
        }
        try {
            return LogLevels.parse(syslogLevel, LogLevels.DEFAULT);
        } catch (IllegalArgumentException e) {
            warning.report("[syslog-logger][level][set][warning]", e.getMessage());
            return TaggedLogger.FOLLOW_MAIN;
        }
    }

    /** Where a bad value is reported: {@code (tags, message)}. */
    @FunctionalInterface
    public interface Warning {
        /** Logs the warning as a process-level line. */
        Warning LOG = (tags, message) -> TaggedLogger.warning(TaggedLogger.NO_SESSION, tags, message);

        void report(String tags, String message);
    }
}
