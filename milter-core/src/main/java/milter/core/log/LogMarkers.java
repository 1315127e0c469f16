package milter.core.log;

import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/** One SLF4J marker per upstream level, so appenders and the layout know the exact level of a line. */
public final class LogMarkers {
    private static final LogLevel[] LEVELS = LogLevel.values();
    private static final Marker[] MARKERS = new Marker[LEVELS.length];

    static {
        for (LogLevel level : LEVELS) {
            MARKERS[level.ordinal()] = MarkerFactory.getMarker(level.nick());
        }
    }

    private LogMarkers() {
    }

    public static Marker of(LogLevel level) {
        return MARKERS[level.ordinal()];
    }

    /** The level a marker stands for, or null. */
    public static LogLevel levelOf(Marker marker) {
        if (marker == null) {
            return null;
        }
        for (LogLevel level : LEVELS) {
            if (MARKERS[level.ordinal()] == marker) {
                return level;
            }
        }
        // A marker from another marker factory (a deserialized event, a second SLF4J binding) still counts.
        return LogLevel.fromNick(marker.getName());
    }
}
