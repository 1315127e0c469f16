package milter.core.log;

import ch.qos.logback.classic.ClassicConstants;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.util.Loader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Logback's configuration when a program never calls {@link LogSetup}: tagged lines in upstream's file form
 * on standard output, upstream's {@code default} level set, other loggers at WARN. {@code MILTER_LOG_LEVEL} and
 * {@code MILTER_LOG_PATH} are honoured, as upstream's library does when it starts. Found by logback through
 * {@code META-INF/services}; it steps aside when a {@code logback-test.xml} or {@code logback.xml} is on the
 * class path or {@code -Dlogback.configurationFile} is given, so a test suite or a user can still configure
 * logback the usual way.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_LOW_PRIORITY)
public class DefaultLogConfigurator extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        ClassLoader loader = DefaultLogConfigurator.class.getClassLoader();
        if (System.getProperty(ClassicConstants.CONFIG_FILE_PROPERTY) != null
                || Loader.getResource(ClassicConstants.TEST_AUTOCONFIG_FILE, loader) != null
                || Loader.getResource(ClassicConstants.AUTOCONFIG_FILE, loader) != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        installDefaults(context, System.getenv());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Installs the default output (standard output, or {@code MILTER_LOG_PATH}) on {@code context}. */
    static void installDefaults(LoggerContext context, Map<String, String> env) {
        LogEnvironment environment = LogEnvironment.of(env);
        List<String> warnings = new ArrayList<>();
        TaggedLogger.setSyslogLevels(TaggedLogger.FOLLOW_MAIN);
        TaggedLogger.setLevels(environment.levels(LogLevels.DEFAULT, (tags, message) ->
                warnings.add(TaggedLogger.format(TaggedLogger.NO_SESSION, tags, message))));

        TaggedEncoder encoder = new TaggedEncoder();
        encoder.setContext(context);
        encoder.start();
        LogOutputAppender appender = new LogOutputAppender();
        appender.setName(LogSetup.MAIN_APPENDER);
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setPath(environment.path(null));
        appender.addFilter(new LevelSetFilter(TaggedLogger::levels));
        appender.start();
        LogSetup.attach(context, List.of(appender));
        TaggedLogger.onLevelsChanged(() -> LogSetup.followLevels(context));
        if (appender.getOpenError() != null) {
            warnings.add(TaggedLogger.format(TaggedLogger.NO_SESSION, "[logger][path][set][warning]",
                    appender.getOpenError()));
        }
        // TaggedLogger can't be used here: logback is still being set up on this very call.
        for (String warning : warnings) {
            LogSetup.emitDirect(context, appender, LogLevel.WARNING, warning);
        }
    }
}
