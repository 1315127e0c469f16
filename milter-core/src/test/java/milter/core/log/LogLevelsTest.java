package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LogLevelsTest {
    private static int mask(LogLevel... levels) {
        int mask = 0;
        for (LogLevel level : levels) {
            mask |= level.bit();
        }
        return mask;
    }

    @ParameterizedTest
    @EnumSource(LogLevel.class)
    void everyNickParsesToItsOwnBit(LogLevel level) {
        assertEquals(level.bit(), LogLevels.parse(level.nick()));
        assertEquals(level.nick(), LogLevels.format(level.bit()));
        assertEquals(level, LogLevel.fromNick(level.nick()));
    }

    @Test
    void nicksAreUpstreamsInUpstreamsOrder() {
        StringBuilder nicks = new StringBuilder();
        for (LogLevel level : LogLevel.values()) {
            nicks.append(level.nick()).append(' ');
        }
        assertEquals("critical error warning message info debug trace statistics profile ", nicks.toString());
    }

    @Test
    void defaultIsCriticalErrorWarningMessageStatisticsAsUpstreamsCode() {
        assertEquals(mask(LogLevel.CRITICAL, LogLevel.ERROR, LogLevel.WARNING, LogLevel.MESSAGE,
                LogLevel.STATISTICS), LogLevels.DEFAULT);
        assertEquals(LogLevels.DEFAULT, LogLevels.parse("default"));
        assertEquals(LogLevels.DEFAULT, LogLevels.parse(null));
        assertEquals(LogLevels.DEFAULT, LogLevels.parse(""));
        assertEquals("default", LogLevels.format(LogLevels.DEFAULT));
    }

    @Test
    void allAndNone() {
        assertEquals(mask(LogLevel.values()), LogLevels.ALL);
        assertEquals(LogLevels.ALL, LogLevels.parse("all"));
        assertEquals(0, LogLevels.parse("none"));
        assertEquals("all", LogLevels.format(LogLevels.ALL));
        assertEquals("none", LogLevels.format(0));
    }

    @Test
    void combinationsWithBar() {
        assertEquals(mask(LogLevel.ERROR, LogLevel.STATISTICS), LogLevels.parse("error|statistics"));
        assertEquals(mask(LogLevel.CRITICAL, LogLevel.ERROR, LogLevel.WARNING, LogLevel.MESSAGE,
                LogLevel.STATISTICS, LogLevel.INFO, LogLevel.DEBUG), LogLevels.parse("default|info|debug"));
        assertEquals(mask(LogLevel.ERROR), LogLevels.parse("none|error"));
        assertEquals(LogLevels.ALL, LogLevels.parse("all|error"));
        assertEquals(mask(LogLevel.WARNING, LogLevel.PROFILE), LogLevels.parse(" warning | profile "));
        assertEquals(mask(LogLevel.ERROR), LogLevels.parse("ERROR"));
        assertEquals("error|statistics", LogLevels.format(mask(LogLevel.ERROR, LogLevel.STATISTICS)));
    }

    @Test
    void leadingSignModifiesTheBase() {
        assertEquals(LogLevels.DEFAULT | LogLevel.INFO.bit(), LogLevels.parse("+info"));
        assertEquals(LogLevels.DEFAULT & ~LogLevel.STATISTICS.bit(), LogLevels.parse("-statistics"));
        assertEquals(mask(LogLevel.ERROR, LogLevel.DEBUG), LogLevels.parse("+debug", mask(LogLevel.ERROR)));
        assertEquals(0, LogLevels.parse("-all", LogLevels.ALL));
        assertEquals(LogLevels.ALL & ~LogLevel.TRACE.bit(), LogLevels.parse("all|-trace"));
        assertEquals(mask(LogLevel.CRITICAL, LogLevel.ERROR, LogLevel.WARNING, LogLevel.MESSAGE, LogLevel.INFO),
                LogLevels.parse("-statistics|+info"));
    }

    @Test
    void unknownNameIsRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogLevels.parse("error|verbose"));
        assertTrue(e.getMessage().startsWith("unknown log level: <verbose>: "), e.getMessage());
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
                () -> LogLevels.parse("loud|error|quiet"));
        assertTrue(two.getMessage().startsWith("unknown log level: <loud>|<quiet>: "), two.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> LogLevels.parse("error||warning"));
        assertTrue(empty.getMessage().startsWith("unknown log level: <>: "), empty.getMessage());
    }

    @Test
    void formatRoundTripsEverySubsetOfSomeLevels() {
        Set<LogLevel> some = EnumSet.of(LogLevel.ERROR, LogLevel.INFO, LogLevel.TRACE, LogLevel.PROFILE);
        for (int subset = 0; subset < 16; subset++) {
            int mask = 0;
            int i = 0;
            for (LogLevel level : some) {
                if ((subset & (1 << i++)) != 0) {
                    mask |= level.bit();
                }
            }
            assertEquals(mask, LogLevels.parse(LogLevels.format(mask)), LogLevels.format(mask));
        }
    }

    @Test
    void containsChecksOneBit() {
        assertTrue(LogLevels.contains(LogLevels.DEFAULT, LogLevel.STATISTICS));
        assertFalse(LogLevels.contains(LogLevels.DEFAULT, LogLevel.INFO));
    }
}
