package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What a program that never calls {@link LogSetup} gets. */
class DefaultLogConfiguratorTest {
    private static final Pattern TIME = Pattern.compile("^\\[\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?Z\\]: ",
            Pattern.MULTILINE);

    @TempDir
    Path dir;
    private final LoggerContext context = new LoggerContext();

    {
        // SLF4J's provider does this for the process context; a context of a test's own needs it too.
        context.setMDCAdapter(new LogbackMDCAdapter());
    }

    @AfterEach
    void restore() {
        context.stop();
        // Give the process context its defaults back (levels included), as the other tests expect them.
        DefaultLogConfigurator.installDefaults(LogSetup.loggerContext(), Map.of());
    }

    @Test
    void rootLevelFollowsLaterLevelChanges() {
        DefaultLogConfigurator.installDefaults(context, Map.of());
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertEquals(Level.WARN, root.getLevel());
        TaggedLogger.setLevels(LogLevels.ALL);
        assertEquals(Level.DEBUG, root.getLevel());
    }

    @Test
    void theProcessContextWasConfiguredWithTheTaggedOutput() {
        // No logback(-test).xml is on this module's class path, so logback ran DefaultLogConfigurator.
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        assertNotNull(tagged.getAppender(LogSetup.MAIN_APPENDER));
        assertEquals(Level.TRACE, tagged.getLevel());
    }

    @Test
    void stepsAsideForAnXmlConfiguration() {
        String key = "logback.configurationFile";
        String old = System.getProperty(key);
        System.setProperty(key, "/nonexistent/logback.xml");
        try {
            assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY,
                    new DefaultLogConfigurator().configure(context));
        } finally {
            if (old == null) {
                System.clearProperty(key);
            } else {
                System.setProperty(key, old);
            }
        }
    }

    @Test
    void environmentGivesPathAndLevelsAndBadValuesAreReportedThere() throws IOException {
        Path log = dir.resolve("m.log");
        DefaultLogConfigurator.installDefaults(context, Map.of("MILTER_LOG_PATH", log.toString(),
                "MILTER_LOG_LEVEL", "error|bogus"));
        assertEquals(LogLevels.DEFAULT, TaggedLogger.levels());
        Logger tagged = context.getLogger(TaggedLogger.LOGGER_NAME);
        tagged.info(LogMarkers.of(LogLevel.INFO), "[x] not in the default set");
        tagged.error(LogMarkers.of(LogLevel.ERROR), "[x] written");
        context.getLogger("io.netty.X").info("below warn");
        context.getLogger("io.netty.X").warn("at warn");
        String text = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertEquals("[logger][level][set][warning] unknown log level: <bogus>: should be a combination of default,"
                + " none, critical, error, warning, message, info, debug, trace, statistics, profile and all\n"
                + "[x] written\n[warning] io.netty.X: at warn\n", TIME.matcher(text).replaceAll(""));
        assertEquals(3, TIME.matcher(text).results().count());
    }

    @Test
    void validLevelFromTheEnvironmentIsApplied() throws IOException {
        Path log = dir.resolve("m.log");
        DefaultLogConfigurator.installDefaults(context, Map.of("MILTER_LOG_PATH", log.toString(),
                "MILTER_LOG_LEVEL", "+info"));
        assertEquals(LogLevels.DEFAULT | LogLevel.INFO.bit(), TaggedLogger.levels());
        context.getLogger(TaggedLogger.LOGGER_NAME).info(LogMarkers.of(LogLevel.INFO), "[x] info");
        assertTrue(Files.readString(log).endsWith("]: [x] info\n"));
    }

    @Test
    void unopenablePathIsReportedOnStdoutFallback() {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.out;
        System.setOut(new java.io.PrintStream(out, true, StandardCharsets.ISO_8859_1));
        try {
            Path log = dir.resolve("no/such/dir/m.log");
            DefaultLogConfigurator.installDefaults(context, Map.of("MILTER_LOG_PATH", log.toString()));
            assertEquals("[logger][path][set][warning] failed to set log output path: <" + log
                    + ">: No such file or directory\n",
                    TIME.matcher(out.toString(StandardCharsets.ISO_8859_1)).replaceAll(""));
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void theClassesWorkFromLogbackXmlAsDocumented() throws Exception {
        Path log = dir.resolve("xml.log");
        String xml = "<configuration>"
                + "<appender name='out' class='milter.core.log.LogOutputAppender'>"
                + "<path>" + log + "</path>"
                + "<encoder class='milter.core.log.TaggedEncoder'><timestamp>false</timestamp></encoder>"
                + "<filter class='milter.core.log.LevelSetFilter'/>"
                + "</appender>"
                + "<logger name='milter' level='TRACE' additivity='false'><appender-ref ref='out'/></logger>"
                + "<root level='WARN'><appender-ref ref='out'/></root>"
                + "</configuration>";
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        context.getLogger(TaggedLogger.LOGGER_NAME).error(LogMarkers.of(LogLevel.ERROR), "[1] [x] error");
        context.getLogger(TaggedLogger.LOGGER_NAME).info(LogMarkers.of(LogLevel.INFO), "[1] [x] info");
        context.getLogger("io.netty.X").warn("w");
        assertEquals("[1] [x] error\n[warning] io.netty.X: w\n", Files.readString(log));
    }
}
