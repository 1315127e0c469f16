package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON lines: the fields of a tagged line, escaping, wire bytes, and the setup's format switch. */
class JsonLineLayoutTest {
    private static final Instant TIME = Instant.parse("2024-03-05T07:08:09.123456Z");
    private final LoggerContext context = new LoggerContext();
    private LogSetup setup;

    @TempDir
    Path dir;

    @AfterEach
    void uninstall() {
        if (setup != null) {
            setup.uninstall();
        }
    }

    private LoggingEvent event(String logger, Level level, LogLevel marker, String message, Throwable thrown) {
        LoggingEvent event = new LoggingEvent(JsonLineLayoutTest.class.getName(), context.getLogger(logger), level,
                message, thrown, null);
        if (marker != null) {
            event.addMarker(LogMarkers.of(marker));
        }
        event.setInstant(TIME);
        return event;
    }

    private static String layout(LoggingEvent event) {
        JsonLineLayout layout = new JsonLineLayout();
        layout.start();
        return layout.doLayout(event);
    }

    @Test
    void sessionTagsAndMessageBecomeFields() {
        String line = TaggedLogger.format(12, "[children][error][connection]",
                "[13] Failed to connect to inet:3310@localhost: Connection refused: clamav-milter");
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"error\",\"session\":12,"
                + "\"tags\":[\"children\",\"error\",\"connection\"],"
                + "\"message\":\"[13] Failed to connect to inet:3310@localhost: Connection refused: clamav-milter\"}\n",
                layout(event(TaggedLogger.LOGGER_NAME, Level.ERROR, LogLevel.ERROR, line, null)));
    }

    @Test
    void processLevelLineHasANullSessionAndStatisticsKeepTheirTail() {
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"info\",\"session\":null,"
                + "\"tags\":[\"controller\",\"disabled\"],\"message\":\"connection spec isn't specified\"}\n",
                layout(event(TaggedLogger.LOGGER_NAME, Level.INFO, LogLevel.INFO, TaggedLogger.format(
                        TaggedLogger.NO_SESSION, "[controller][disabled]", "connection spec isn't specified"), null)));
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"statistics\",\"session\":null,"
                + "\"tags\":[\"session\",\"end\",\"end-of-message\",\"pass\",\"0.125378\"],\"message\":\"(12)\"}\n",
                layout(event(TaggedLogger.LOGGER_NAME, Level.INFO, LogLevel.STATISTICS,
                        "[session][end][end-of-message][pass][0.125378](12)", null)));
    }

    @Test
    void quotesBackslashesAndControlsAreEscaped() {
        String json = layout(event(TaggedLogger.LOGGER_NAME, Level.INFO, LogLevel.INFO,
                "[1] [a] say \"hi\" \\ \u0001\ttab", null));
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"info\",\"session\":1,\"tags\":[\"a\"],"
                + "\"message\":\"say \\\"hi\\\" \\\\ \\u0001\\ttab\"}\n", json);
    }

    @Test
    void wireBytesThatAreUtf8ShowAsTextOthersAsLatin1AndTheLineIsAscii() {
        // "é" sent by the MTA as UTF-8 arrives as two chars, one per byte.
        String utf8 = new String("caf\u00e9".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        String json = layout(event(TaggedLogger.LOGGER_NAME, Level.INFO, LogLevel.INFO,
                "[2] [header] <" + utf8 + "> <\u00ff> \u20ac", null));
        assertTrue(json.contains("\"message\":\"<caf\\u00e9> <\\u00ff> \\u20ac\""), json);
        for (char c : json.toCharArray()) {
            assertTrue(c < 0x80, json);
        }
    }

    @Test
    void otherLoggersCarryTheirNameAndThrowablesAnErrorField() {
        String json = layout(event("io.netty.X", Level.WARN, null, "oops",
                new RuntimeException("write failed", new IOException("reset"))));
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"warning\",\"session\":null,\"tags\":[],"
                + "\"logger\":\"io.netty.X\",\"message\":\"oops\",\"error\":\"java.lang.RuntimeException: write failed;"
                + " caused by java.io.IOException: reset\"}\n", json);
    }

    @Test
    void parsingLeavesBracketsInsideTheMessageAlone() {
        JsonLineLayout.TaggedLine line = JsonLineLayout.TaggedLine.parse(
                "[12] [children][error][invalid-state][add-header][body]<X-Spam>=<yes> [13] only allowed");
        assertEquals(12, line.session);
        assertEquals(List.of("children", "error", "invalid-state", "add-header", "body"), line.tags);
        assertEquals("<X-Spam>=<yes> [13] only allowed", line.message);
        JsonLineLayout.TaggedLine plain = JsonLineLayout.TaggedLine.parse("no tags here");
        assertEquals(-1, plain.session);
        assertEquals(List.of(), plain.tags);
        assertEquals("no tags here", plain.message);
    }

    @Test
    void setupWritesJsonLinesToTheLogFile() throws IOException {
        Path log = dir.resolve("milter-manager.log");
        setup = LogSetup.builder().levels(LogLevels.DEFAULT).path(log.toString()).format(LogFormat.JSON)
                .clock(Clock.fixed(TIME, ZoneOffset.UTC))
                .stdout(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.ISO_8859_1)).install();
        assertEquals(LogFormat.JSON, setup.format());
        TaggedLogger.error(7, "[leader][error]", "None of milters are processing message.");
        assertEquals("{\"time\":\"2024-03-05T07:08:09.123456Z\",\"level\":\"error\",\"session\":7,"
                + "\"tags\":[\"leader\",\"error\"],\"message\":\"None of milters are processing message.\"}\n",
                Files.readString(log, StandardCharsets.US_ASCII));
    }

    @Test
    void formatNamesParseAndOthersAreRefused() {
        assertEquals(LogFormat.JSON, LogFormat.parse(" JSON "));
        assertEquals(LogFormat.TEXT, LogFormat.parse("text"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> LogFormat.parse("xml"));
        assertEquals("log format should be one of [text, json] but was <xml>", error.getMessage());
    }
}
