package milter.manager.config.ruby;

import java.util.Locale;
import milter.core.log.LogLevel;
import milter.core.log.TaggedLogger;

/**
 * {@code Milter::Logger} for configuration code. Upstream's Ruby messages carry their tags in the text
 * ({@code "[breaker][detect][threshold][postfix] <75>"}), so the text goes out as it is, one line per line.
 */
public final class RubyLog {
    private RubyLog() {
    }

    public static void log(String level, String message) {
        LogLevel logLevel = LogLevel.valueOf(level.toUpperCase(Locale.ROOT));
        if (!TaggedLogger.isEnabled(logLevel)) {
            return;
        }
        for (String line : message.split("\n", -1)) {
            TaggedLogger.log(logLevel, TaggedLogger.NO_SESSION, "", line);
        }
    }

    public static boolean enabled(String level) {
        return TaggedLogger.isEnabled(LogLevel.valueOf(level.toUpperCase(Locale.ROOT)));
    }
}
