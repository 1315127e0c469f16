package milter.core.log;

import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide tagged log. A line is {@code [SESSION] [tag1][tag2] message}; {@code tags} is passed
 * pre-rendered ({@code "[client][error][write]"}) so that an enabled line costs one string concatenation and a
 * disabled one nothing. The level set ({@link LogLevels}) is checked here, before anything is built; lines that
 * pass go to SLF4J logger {@value #LOGGER_NAME}, where {@link TaggedLayout} renders them.
 */
public final class TaggedLogger {
    /** Session id for lines that belong to no session. */
    public static final long NO_SESSION = -1;
    public static final String LOGGER_NAME = "milter";

    private static final Logger LOGGER = LoggerFactory.getLogger(LOGGER_NAME);
    private static volatile int levels = LogLevels.DEFAULT;

    private TaggedLogger() {
    }

    /** Sets the level set (a mask of {@link LogLevel#bit()}s). */
    public static void setLevels(int mask) {
        levels = mask;
    }

    public static int levels() {
        return levels;
    }

    public static boolean isEnabled(LogLevel level) {
        return (levels & level.bit()) != 0;
    }

    public static void log(LogLevel level, long session, String tags, String message) {
        if ((levels & level.bit()) != 0) {
            emit(level, session, tags, message);
        }
    }

    public static void log(LogLevel level, long session, String tags, Supplier<String> message) {
        if ((levels & level.bit()) != 0) {
            emit(level, session, tags, message.get());
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

    private static void emit(LogLevel level, long session, String tags, String message) {
        String line = format(session, tags, LogEscaper.escape(message));
        switch (level) {
            case CRITICAL, ERROR -> LOGGER.error(LogMarkers.of(level), line);
            case WARNING -> LOGGER.warn(LogMarkers.of(level), line);
            case MESSAGE, INFO, STATISTICS -> LOGGER.info(LogMarkers.of(level), line);
            case DEBUG, PROFILE -> LOGGER.debug(LogMarkers.of(level), line);
            case TRACE -> LOGGER.trace(LogMarkers.of(level), line);
        }
    }
}
