package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogEnvironmentTest {
    private final List<String> warnings = new ArrayList<>();
    private final LogEnvironment.Warning warning = (tags, message) -> warnings.add(tags + " " + message);

    @Test
    void absentVariablesKeepTheGivenValues() {
        LogEnvironment env = LogEnvironment.of(Map.of());
        assertEquals(LogLevels.ALL, env.levels(LogLevels.ALL, warning));
        assertEquals("/var/log/x.log", env.path("/var/log/x.log"));
        assertNull(env.path(null));
        assertEquals(SyslogFacility.LOCAL4, env.syslogFacility("local4"));
        assertEquals(TaggedLogger.FOLLOW_MAIN, env.syslogLevels(warning));
        assertEquals(List.of(), warnings);
    }

    @Test
    void variablesGiveTheInitialValues() {
        LogEnvironment env = LogEnvironment.of(Map.of("MILTER_LOG_LEVEL", "error|statistics",
                "MILTER_LOG_PATH", "/tmp/m.log", "MILTER_LOG_SYSLOG_FACILITY", "local0",
                "MILTER_LOG_SYSLOG_LEVEL", "all"));
        assertEquals(LogLevel.ERROR.bit() | LogLevel.STATISTICS.bit(), env.levels(LogLevels.DEFAULT, warning));
        assertEquals("/tmp/m.log", env.path(null));
        assertEquals(SyslogFacility.LOCAL0, env.syslogFacility("mail"), "the environment beats the configuration");
        assertEquals(LogLevels.ALL, env.syslogLevels(warning));
        assertEquals(List.of(), warnings);
    }

    @Test
    void signedLevelModifiesTheBase() {
        LogEnvironment env = LogEnvironment.of(Map.of("MILTER_LOG_LEVEL", "+debug"));
        assertEquals(LogLevels.DEFAULT | LogLevel.DEBUG.bit(), env.levels(LogLevels.DEFAULT, warning));
    }

    @Test
    void badLevelsAreReportedAndIgnored() {
        LogEnvironment env = LogEnvironment.of(Map.of("MILTER_LOG_LEVEL", "loud", "MILTER_LOG_SYSLOG_LEVEL",
                "error|shout", "MILTER_LOG_SYSLOG_FACILITY", "nowhere"));
        assertEquals(LogLevels.DEFAULT, env.levels(LogLevels.DEFAULT, warning));
        assertEquals(TaggedLogger.FOLLOW_MAIN, env.syslogLevels(warning));
        assertEquals(SyslogFacility.MAIL, env.syslogFacility("local1"));
        assertEquals(2, warnings.size());
        assertEquals("[logger][level][set][warning] unknown log level: <loud>: should be a combination of default,"
                + " none, critical, error, warning, message, info, debug, trace, statistics, profile and all",
                warnings.get(0));
        assertEquals("[syslog-logger][level][set][warning] unknown log level: <shout>: should be a combination of"
                + " default, none, critical, error, warning, message, info, debug, trace, statistics, profile and all",
                warnings.get(1));
    }

    @Test
    void dashPathIsStdoutForTheSetup() {
        LogEnvironment env = LogEnvironment.of(Map.of("MILTER_LOG_PATH", "-"));
        assertEquals("-", env.path("/var/log/x"));
        LogOutputAppender appender = new LogOutputAppender();
        appender.setPath(env.path(null));
        assertNull(appender.getPath());
    }
}
