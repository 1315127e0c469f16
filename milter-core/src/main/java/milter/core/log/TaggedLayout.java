package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.LayoutBase;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Writes one line per event in upstream's file form, {@code [2024-01-31T12:34:56.789012Z]: MESSAGE}: the time
 * in UTC, ISO-8601, with microseconds that are left out when they are zero (as GLib's
 * {@code g_time_val_to_iso8601} does). With {@link #setTimestamp(boolean) timestamp} off the line is just
 * {@code MESSAGE} (syslog adds its own time; tests want stable text).
 *
 * <p>MESSAGE is the tagged line {@code [ID] [tag1][tag2] text} for lines of logger {@value TaggedLogger#LOGGER_NAME}.
 * Lines of any other logger (Netty, JRuby, ...) take the same shape with the level as their tag and the logger
 * name in front: {@code [warning] io.netty.channel.DefaultChannelPipeline: text}. A throwable is appended to
 * the same line as {@code : CLASS: MESSAGE; caused by CLASS: MESSAGE}; when the main level set contains
 * {@code debug} its stack frames are appended too, with the line breaks escaped. Control characters are escaped
 * ({@link LogEscaper}), so one event is always one line.
 */
public class TaggedLayout extends LayoutBase<ILoggingEvent> {
    private static final int MAX_CAUSES = 16;

    private boolean timestamp = true;
    private Clock clock;

    /** Whether lines start with {@code [TIME]: } (the default). */
    public void setTimestamp(boolean timestamp) {
        this.timestamp = timestamp;
    }

    public boolean isTimestamp() {
        return timestamp;
    }

    /** Takes the time from this clock instead of the event (for tests that pin whole lines). */
    public void setClock(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        String message = message(event);
        StringBuilder line = new StringBuilder(message.length() + 40);
        if (timestamp) {
            line.append('[');
            appendTimestamp(line, timeOf(event));
            line.append("]: ");
        }
        line.append(message).append('\n');
        return line.toString();
    }

    /** The time a line shows: the event's, or the pinned clock's. */
    Instant timeOf(ILoggingEvent event) {
        return clock == null ? event.getInstant() : clock.instant();
    }

    /** The MESSAGE part of a line: the tagged line, or {@code [LEVEL] LOGGER: text} for other loggers. */
    public static String message(ILoggingEvent event) {
        String text = LogEscaper.escape(event.getFormattedMessage() == null ? "" : event.getFormattedMessage());
        IThrowableProxy thrown = event.getThrowableProxy();
        if (EventLevels.isTagged(event) && thrown == null) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 64);
        if (!EventLevels.isTagged(event)) {
            out.append('[').append(EventLevels.levelOf(event).nick()).append("] ")
                    .append(event.getLoggerName()).append(": ");
        }
        out.append(text);
        if (thrown != null) {
            out.append(": ").append(LogEscaper.escape(describe(thrown,
                    LogLevels.contains(TaggedLogger.levels(), LogLevel.DEBUG))));
        }
        return out.toString();
    }

    /** {@code 2024-01-31T12:34:56.789012Z}, or {@code 2024-01-31T12:34:56Z} when the microseconds are zero. */
    public static String formatTimestamp(Instant instant) {
        StringBuilder out = new StringBuilder(27);
        appendTimestamp(out, instant);
        return out.toString();
    }

    private static void appendTimestamp(StringBuilder out, Instant instant) {
        LocalDateTime time = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0, ZoneOffset.UTC);
        int year = time.getYear();
        if (year >= 0 && year < 1000) {
            out.append(year < 10 ? "   " : year < 100 ? "  " : " ");
        }
        out.append(year).append('-');
        pad(out, time.getMonthValue(), 2).append('-');
        pad(out, time.getDayOfMonth(), 2).append('T');
        pad(out, time.getHour(), 2).append(':');
        pad(out, time.getMinute(), 2).append(':');
        pad(out, time.getSecond(), 2);
        int micros = instant.getNano() / 1000;
        if (micros != 0) {
            pad(out.append('.'), micros, 6);
        }
        out.append('Z');
    }

    private static StringBuilder pad(StringBuilder out, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            out.append('0');
        }
        return out.append(digits);
    }

    static String describe(IThrowableProxy thrown, boolean frames) {
        StringBuilder out = new StringBuilder(128);
        IThrowableProxy current = thrown;
        for (int depth = 0; current != null && depth < MAX_CAUSES; depth++) {
            if (depth > 0) {
                out.append(frames ? "\nCaused by: " : "; caused by ");
            }
            out.append(current.getClassName());
            if (current.getMessage() != null) {
                out.append(": ").append(current.getMessage());
            }
            if (frames && current.getStackTraceElementProxyArray() != null) {
                for (StackTraceElementProxy frame : current.getStackTraceElementProxyArray()) {
                    out.append("\n\tat ").append(frame.getStackTraceElement());
                }
            }
            current = current.isCyclic() ? null : current.getCause();
        }
        return out.toString();
    }
}
