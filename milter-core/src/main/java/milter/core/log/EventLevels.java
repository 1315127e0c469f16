package milter.core.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import java.util.List;
import org.slf4j.Marker;

/** The upstream level of a logback event: its level marker, or else its logback level mapped to the nearest flag. */
final class EventLevels {
    private EventLevels() {
    }

    static LogLevel levelOf(ILoggingEvent event) {
        List<Marker> markers = event.getMarkerList();
        if (markers != null) {
            for (Marker marker : markers) {
                LogLevel level = LogMarkers.levelOf(marker);
                if (level != null) {
                    return level;
                }
            }
        }
        return fromLogback(event.getLevel());
    }

    static LogLevel fromLogback(Level level) {
        switch (level.toInt()) {
            case Level.ERROR_INT:
                return LogLevel.ERROR;
            case Level.WARN_INT:
                return LogLevel.WARNING;
            case Level.INFO_INT:
                return LogLevel.INFO;
            case Level.DEBUG_INT:
                return LogLevel.DEBUG;
            default:
                return LogLevel.TRACE;
        }
    }

    /** Whether an event comes from {@link TaggedLogger} (or anyone logging pre-tagged lines to its logger). */
    static boolean isTagged(ILoggingEvent event) {
        return TaggedLogger.LOGGER_NAME.equals(event.getLoggerName());
    }
}
