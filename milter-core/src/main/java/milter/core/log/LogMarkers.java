package milter.core.log;

import org.slf4j.Marker;
import org.slf4j.MarkerFactory;

/** One SLF4J marker per upstream level, so appenders and the layout know the exact level of a line. */
public final class LogMarkers {
    private static final Marker[] MARKERS = new Marker[LogLevel.values().length];

    static {
        for (LogLevel level : LogLevel.values()) {
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
        for (LogLevel level : LogLevel.values()) {
            if (MARKERS[level.ordinal()] == marker || level.nick().equals(marker.getName())) {
                return level;
            }
        }
        return null;
    }
}
