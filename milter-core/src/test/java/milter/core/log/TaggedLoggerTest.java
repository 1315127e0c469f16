package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/** Lines through SLF4J and logback as installed by {@link LogSetup}, read back from a captured stdout. */
class TaggedLoggerTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-03-05T07:08:09.5Z"), ZoneOffset.UTC);
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private LogSetup setup;

    private void install(int levels) {
        setup = LogSetup.builder().levels(levels).clock(CLOCK)
                .stdout(new PrintStream(out, true, StandardCharsets.ISO_8859_1)).install();
    }

    private String output() {
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    @AfterEach
    void uninstall() {
        if (setup != null) {
            setup.uninstall();
        }
    }

    @ParameterizedTest
    @EnumSource(LogLevel.class)
    void everyLevelWritesTheTaggedLineWithAndWithoutSession(LogLevel level) {
        install(level.bit());
        TaggedLogger.log(level, 7, "[children][milter][start]", "[8] milter-greylist");
        TaggedLogger.log(level, TaggedLogger.NO_SESSION, "[client][listen][start]", () -> "<inet:10025>");
        assertEquals("[2024-03-05T07:08:09.500000Z]: [7] [children][milter][start] [8] milter-greylist\n"
                + "[2024-03-05T07:08:09.500000Z]: [client][listen][start] <inet:10025>\n", output());
    }

    @Test
    void shortcutsLogAtTheirLevel() {
        install(LogLevels.ALL);
        TaggedLogger.critical(1, "[a]", "critical");
        TaggedLogger.error(1, "[a]", "error");
        TaggedLogger.warning(1, "[a]", "warning");
        TaggedLogger.message(1, "[a]", "message");
        TaggedLogger.info(1, "[a]", "info");
        TaggedLogger.info(1, "[a]", () -> "info2");
        TaggedLogger.debug(1, "[a]", "debug");
        TaggedLogger.debug(1, "[a]", () -> "debug2");
        TaggedLogger.trace(1, "[a]", () -> "trace");
        TaggedLogger.statistics(1, "[a]", "statistics");
        TaggedLogger.profile(1, "[a]", () -> "profile");
        String prefix = "[2024-03-05T07:08:09.500000Z]: [1] [a] ";
        StringBuilder expected = new StringBuilder();
        for (String word : new String[] {"critical", "error", "warning", "message", "info", "info2", "debug",
                "debug2", "trace", "statistics", "profile"}) {
            expected.append(prefix).append(word).append('\n');
        }
        assertEquals(expected.toString(), output());
    }

    @Test
    void levelsOutsideTheSetAreNeitherBuiltNorWritten() {
        install(LogLevel.ERROR.bit() | LogLevel.STATISTICS.bit());
        AtomicInteger built = new AtomicInteger();
        TaggedLogger.debug(3, "[x]", () -> "debug " + built.incrementAndGet());
        TaggedLogger.info(3, "[x]", () -> "info " + built.incrementAndGet());
        TaggedLogger.warning(3, "[x]", "warning");
        TaggedLogger.error(3, "[x]", "error");
        TaggedLogger.statistics(3, "[x]", "statistics");
        assertEquals(0, built.get());
        assertFalse(TaggedLogger.isEnabled(LogLevel.WARNING));
        assertTrue(TaggedLogger.isEnabled(LogLevel.STATISTICS));
        assertEquals("[2024-03-05T07:08:09.500000Z]: [3] [x] error\n"
                + "[2024-03-05T07:08:09.500000Z]: [3] [x] statistics\n", output());
    }

    @Test
    void noneSilencesEverythingIncludingOtherLoggers() {
        install(LogLevels.NONE);
        TaggedLogger.critical(1, "[a]", "x");
        LoggerFactory.getLogger("io.netty.Test").error("y");
        assertEquals("", output());
    }

    @Test
    void messagesAreEscapedButLineStaysOne() {
        install(LogLevels.DEFAULT);
        TaggedLogger.error(5, "[client][error]", "bad\r\nline\0end");
        assertEquals("[2024-03-05T07:08:09.500000Z]: [5] [client][error] bad\\r\\nline\\x00end\n", output());
    }

    @Test
    void emptyMessageLeavesJustTheTags() {
        install(LogLevels.DEFAULT);
        TaggedLogger.warning(TaggedLogger.NO_SESSION, "[logger][reopen][close]", "");
        assertEquals("[2024-03-05T07:08:09.500000Z]: [logger][reopen][close]\n", output());
    }

    @Test
    void wireBytesComeOutAsTheyCame() {
        install(LogLevels.DEFAULT);
        byte[] utf8 = "\u3042".getBytes(StandardCharsets.UTF_8);
        TaggedLogger.error(1, "[a]", "<" + new String(utf8, StandardCharsets.ISO_8859_1) + ">");
        byte[] written = out.toByteArray();
        byte[] expected = ("[2024-03-05T07:08:09.500000Z]: [1] [a] <\u00e3\u0081\u0082>\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(new String(expected, StandardCharsets.ISO_8859_1),
                new String(written, StandardCharsets.ISO_8859_1));
    }

    @Test
    void otherLoggersStayAtWarnUnlessDebugIsWanted() {
        install(LogLevels.ALL & ~LogLevel.DEBUG.bit() & ~LogLevel.TRACE.bit());
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        assertEquals(Level.TRACE, tagged.getLevel());
        LoggerFactory.getLogger("io.netty.Test").info("hidden");
        LoggerFactory.getLogger("io.netty.Test").warn("shown");
        setup.setLevels(LogLevels.DEFAULT | LogLevel.DEBUG.bit());
        assertEquals(Level.DEBUG, root.getLevel());
        LoggerFactory.getLogger("io.netty.Test").debug("now shown");
        LoggerFactory.getLogger("io.netty.Test").info("info is not in the set");
        TaggedLogger.setLevels(LogLevels.DEFAULT);
        assertEquals(Level.WARN, root.getLevel());
        assertEquals("[2024-03-05T07:08:09.500000Z]: [warning] io.netty.Test: shown\n"
                + "[2024-03-05T07:08:09.500000Z]: [debug] io.netty.Test: now shown\n", output());
    }

    @Test
    void throwableIsAppendedToTheLine() {
        install(LogLevels.DEFAULT);
        TaggedLogger.log(LogLevel.ERROR, 4, "[leader][error]", "failed", new IllegalStateException("why"));
        assertEquals("[2024-03-05T07:08:09.500000Z]: [4] [leader][error] failed: java.lang.IllegalStateException:"
                + " why\n", output());
    }

    @Test
    void formatWithoutTagsOrMessage() {
        assertEquals("[1] [a][b] text", TaggedLogger.format(1, "[a][b]", "text"));
        assertEquals("[a][b]", TaggedLogger.format(-1, "[a][b]", ""));
        assertEquals("text", TaggedLogger.format(-1, "", "text"));
        assertEquals("[0] text", TaggedLogger.format(0, "", "text"));
    }
}
