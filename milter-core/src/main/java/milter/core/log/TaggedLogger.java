package milter.core.log;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide tagged log. A line is {@code [SESSION] [tag1][tag2] message}; {@code tags} is passed
 * pre-rendered ({@code "[client][error][write]"}) so that an enabled line costs one string concatenation and a
 * disabled one nothing. The level set ({@link LogLevels}) is checked here, before anything is built; lines that
 * pass go to SLF4J logger {@value #LOGGER_NAME} with the marker of their level ({@link LogMarkers}), where
 * {@link TaggedLayout} renders them.
 *
 * <p>Two level sets exist, as upstream: the one of the main output (stdout or the log file) and the one of
 * syslog, which follows the main one unless set on its own ({@code MILTER_LOG_SYSLOG_LEVEL}). A line is built
 * when either wants it; each output then filters with its own set ({@link LevelSetFilter}).
 */
public final class TaggedLogger {
    /** Session id for lines that belong to no session. */
    public static final long NO_SESSION = -1;
    public static final String LOGGER_NAME = "milter";
    /** {@link #setSyslogLevels(int)} value meaning "the same as the main output". */
    public static final int FOLLOW_MAIN = -1;

    // Declared before anything that may start logback: its configurator may set levels during class init.
    private static volatile int levels = LogLevels.DEFAULT;
    private static volatile int syslogLevels = FOLLOW_MAIN;
    private static volatile int wanted = LogLevels.DEFAULT;
    private static volatile Runnable levelsListener;

    private TaggedLogger() {
    }

    /** Sets the level set of the main output (a mask of {@link LogLevel#bit()}s). */
    public static void setLevels(int mask) {
        levels = mask;
        levelsChanged();
    }

    /** The level set of the main output. */
    public static int levels() {
        return levels;
    }

    /** Sets the level set of syslog, or {@link #FOLLOW_MAIN}. */
    public static void setSyslogLevels(int mask) {
        syslogLevels = mask < 0 ? FOLLOW_MAIN : mask;
        levelsChanged();
    }

    /** The level set syslog uses: its own one, or the main one. */
    public static int syslogLevels() {
        int own = syslogLevels;
        return own < 0 ? levels : own;
    }

    /** The levels any output wants: a line of another level is dropped before it is built. */
    public static int wantedLevels() {
        return wanted;
    }

    public static boolean isEnabled(LogLevel level) {
        return (wanted & level.bit()) != 0;
    }

    public static void log(LogLevel level, long session, String tags, String message) {
        if ((wanted & level.bit()) != 0) {
            emit(level, session, tags, message, null);
        }
    }

    public static void log(LogLevel level, long session, String tags, Supplier<String> message) {
        if ((wanted & level.bit()) != 0) {
            emit(level, session, tags, message.get(), null);
        }
    }

    /** Logs a line and the class and message of {@code cause} (its stack at debug level, see {@link TaggedLayout}). */
    public static void log(LogLevel level, long session, String tags, String message, Throwable cause) {
        if ((wanted & level.bit()) != 0) {
            emit(level, session, tags, message, cause);
        }
    }

    public static void critical(long session, String tags, String message) {
        log(LogLevel.CRITICAL, session, tags, message);
    }

    public static void error(long session, String tags, String message) {
        log(LogLevel.ERROR, session, tags, message);
    }

    public static void warning(long session, String tags, String message) {
        log(LogLevel.WARNING, session, tags, message);
    }

    public static void message(long session, String tags, String message) {
        log(LogLevel.MESSAGE, session, tags, message);
    }

    public static void info(long session, String tags, String message) {
        log(LogLevel.INFO, session, tags, message);
    }

    public static void info(long session, String tags, Supplier<String> message) {
        log(LogLevel.INFO, session, tags, message);
    }

    public static void debug(long session, String tags, String message) {
        log(LogLevel.DEBUG, session, tags, message);
    }

    public static void debug(long session, String tags, Supplier<String> message) {
        log(LogLevel.DEBUG, session, tags, message);
    }

    public static void trace(long session, String tags, Supplier<String> message) {
        log(LogLevel.TRACE, session, tags, message);
    }

    public static void statistics(long session, String tags, String message) {
        log(LogLevel.STATISTICS, session, tags, message);
    }

    public static void profile(long session, String tags, Supplier<String> message) {
        log(LogLevel.PROFILE, session, tags, message);
    }

    /** {@code [SESSION] [tags] message} without the session part when {@code session < 0}. */
    public static String format(long session, String tags, String message) {
        StringBuilder line = new StringBuilder(tags.length() + message.length() + 16);
        if (session >= 0) {
            line.append('[').append(session).append("] ");
        }
        line.append(tags);
        if (!message.isEmpty()) {
            if (!tags.isEmpty()) {
                line.append(' ');
            }
            line.append(message);
        }
        return line.toString();
    }

    /** Called (on the thread that changed them) whenever a level set changes; LogSetup follows with logback. */
    static void onLevelsChanged(Runnable listener) {
        levelsListener = listener;
    }

    private static void levelsChanged() {
        int own = syslogLevels;
        wanted = levels | (own < 0 ? 0 : own);
        Runnable listener = levelsListener;
        if (listener != null) {
            listener.run();
        }
    }

    private static void emit(LogLevel level, long session, String tags, String message, Throwable cause) {
        String line = format(session, tags, LogEscaper.escape(message));
        Logger logger = Holder.LOGGER;
        switch (level) {
            case CRITICAL:
            case ERROR:
                logger.error(LogMarkers.of(level), line, cause);
                break;
            case WARNING:
                logger.warn(LogMarkers.of(level), line, cause);
                break;
            case MESSAGE:
            case INFO:
            case STATISTICS:
                logger.info(LogMarkers.of(level), line, cause);
                break;
            case DEBUG:
            case PROFILE:
                logger.debug(LogMarkers.of(level), line, cause);
                break;
            default:
                logger.trace(LogMarkers.of(level), line, cause);
                break;
        }
    }

    /** Looked up on first use, so that setting levels never starts logback's configuration. */
    private static final class Holder {
        static final Logger LOGGER = LoggerFactory.getLogger(LOGGER_NAME);
    }
}
