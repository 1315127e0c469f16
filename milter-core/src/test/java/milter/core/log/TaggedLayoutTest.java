package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TaggedLayoutTest {
    private static final Instant TIME = Instant.parse("2024-03-05T07:08:09.123456789Z");
    private final LoggerContext context = new LoggerContext();

    @AfterEach
    void restoreLevels() {
        TaggedLogger.setLevels(LogLevels.DEFAULT);
    }

    private LoggingEvent event(String logger, Level level, LogLevel marker, String message, Throwable thrown) {
        LoggingEvent event = new LoggingEvent(TaggedLayoutTest.class.getName(), context.getLogger(logger), level,
                message, thrown, null);
        if (marker != null) {
            event.addMarker(LogMarkers.of(marker));
        }
        event.setInstant(TIME);
        return event;
    }

    private LoggingEvent tagged(LogLevel level, String line) {
        return event(TaggedLogger.LOGGER_NAME, Level.INFO, level, line, null);
    }

    private static TaggedLayout layout(boolean timestamp) {
        TaggedLayout layout = new TaggedLayout();
        layout.setTimestamp(timestamp);
        layout.start();
        return layout;
    }

    @ParameterizedTest
    @EnumSource(LogLevel.class)
    void taggedLineOfEveryLevelWithAndWithoutSession(LogLevel level) {
        TaggedLayout layout = layout(true);
        assertEquals("[2024-03-05T07:08:09.123456Z]: [12] [manager][session][start]\n",
                layout.doLayout(tagged(level, TaggedLogger.format(12, "[manager][session][start]", ""))));
        assertEquals("[2024-03-05T07:08:09.123456Z]: [client][listen][start] <unix:/tmp/s.sock>\n",
                layout.doLayout(tagged(level,
                        TaggedLogger.format(TaggedLogger.NO_SESSION, "[client][listen][start]", "<unix:/tmp/s.sock>"))));
    }

    @Test
    void timestampOffLeavesTheBareLine() {
        assertEquals("[3] [server][send][helo] <mx.example.org>\n",
                layout(false).doLayout(tagged(LogLevel.DEBUG, "[3] [server][send][helo] <mx.example.org>")));
    }

    @Test
    void timestampIsUtcWithMicrosecondsOmittedWhenZero() {
        assertEquals("2024-03-05T07:08:09.123456Z", TaggedLayout.formatTimestamp(TIME));
        assertEquals("2024-03-05T07:08:09Z", TaggedLayout.formatTimestamp(Instant.parse("2024-03-05T07:08:09Z")));
        // Below a microsecond counts as zero, as GLib's microsecond time value has nothing there.
        assertEquals("2024-03-05T07:08:09Z",
                TaggedLayout.formatTimestamp(Instant.parse("2024-03-05T07:08:09.000000999Z")));
        assertEquals("1999-12-31T23:59:59.000001Z",
                TaggedLayout.formatTimestamp(Instant.parse("1999-12-31T23:59:59.000001Z")));
        assertEquals("2024-03-05T07:08:09.100000Z",
                TaggedLayout.formatTimestamp(Instant.parse("2024-03-05T07:08:09.1Z")));
    }

    @Test
    void injectedClockReplacesTheEventTime() {
        TaggedLayout layout = layout(true);
        layout.setClock(Clock.fixed(Instant.parse("2030-01-02T03:04:05.000600Z"), ZoneOffset.UTC));
        assertEquals("[2030-01-02T03:04:05.000600Z]: [statistics] line\n",
                layout.doLayout(tagged(LogLevel.STATISTICS, "[statistics] line")));
    }

    @Test
    void otherLoggersGetTheirLevelAsTagAndTheirNameInFront() {
        TaggedLayout layout = layout(false);
        assertEquals("[warning] io.netty.channel.DefaultChannelPipeline: dropped {x}\n",
                layout.doLayout(event("io.netty.channel.DefaultChannelPipeline", Level.WARN, null, "dropped {x}",
                        null)));
        assertEquals("[error] org.jruby.Ruby: boom\n",
                layout.doLayout(event("org.jruby.Ruby", Level.ERROR, null, "boom", null)));
        assertEquals("[info] a: i\n", layout.doLayout(event("a", Level.INFO, null, "i", null)));
        assertEquals("[debug] a: d\n", layout.doLayout(event("a", Level.DEBUG, null, "d", null)));
        assertEquals("[trace] a: t\n", layout.doLayout(event("a", Level.TRACE, null, "t", null)));
    }

    @Test
    void argumentsAreFormattedAndControlsEscaped() {
        LoggingEvent event = new LoggingEvent(TaggedLayoutTest.class.getName(), context.getLogger("x.Y"),
                Level.WARN, "got {} bytes", null, new Object[] {"3\r\n"});
        assertEquals("[warning] x.Y: got 3\\r\\n bytes\n", layout(false).doLayout(event));
        assertEquals("[1] [a] b\\nc\n", layout(false).doLayout(tagged(LogLevel.ERROR, "[1] [a] b\nc")));
    }

    @Test
    void throwableGoesOnTheSameLine() {
        IOException cause = new IOException("Connection reset by peer");
        RuntimeException thrown = new RuntimeException("write failed", cause);
        String line = layout(false).doLayout(event("io.netty.X", Level.WARN, null, "oops", thrown));
        assertEquals("[warning] io.netty.X: oops: java.lang.RuntimeException: write failed;"
                + " caused by java.io.IOException: Connection reset by peer\n", line);
        String tagged = layout(false).doLayout(event(TaggedLogger.LOGGER_NAME, Level.ERROR, LogLevel.ERROR,
                "[client][error] failed", new IllegalStateException()));
        assertEquals("[client][error] failed: java.lang.IllegalStateException\n", tagged);
    }

    @Test
    void stackFramesAreAddedAtDebugLevelStillOnOneLine() {
        TaggedLogger.setLevels(LogLevels.DEFAULT | LogLevel.DEBUG.bit());
        String line = layout(false).doLayout(event("io.netty.X", Level.WARN, null, "oops",
                new RuntimeException("bad", new IOException("worse"))));
        assertTrue(line.startsWith("[warning] io.netty.X: oops: java.lang.RuntimeException: bad\\n\\tat "
                + TaggedLayoutTest.class.getName() + "."), line);
        assertTrue(line.contains("\\nCaused by: java.io.IOException: worse\\n\\tat "), line);
        assertEquals(line.length() - 1, line.indexOf('\n'));
        assertFalse(line.contains("\t"));
    }

    @Test
    void levelOfAnEventIsItsMarkerElseItsLogbackLevel() {
        assertEquals(LogLevel.STATISTICS,
                EventLevels.levelOf(event("milter", Level.INFO, LogLevel.STATISTICS, "x", null)));
        assertEquals(LogLevel.CRITICAL, EventLevels.levelOf(event("milter", Level.ERROR, LogLevel.CRITICAL, "x",
                null)));
        assertEquals(LogLevel.WARNING, EventLevels.levelOf(event("other", Level.WARN, null, "x", null)));
    }
}
