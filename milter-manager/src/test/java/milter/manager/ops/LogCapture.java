package milter.manager.ops;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevels;
import milter.core.log.TaggedLogger;
import org.slf4j.LoggerFactory;

/**
 * Collects the tagged log lines written while it is open, every level included, and lets a test wait for a line
 * (no sleeping). Restores the level set on close.
 */
public final class LogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
    private final List<String> lines = new ArrayList<>();
    private final int levels = TaggedLogger.levels();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            synchronized (lines) {
                lines.add(event.getFormattedMessage());
                lines.notifyAll();
            }
        }
    };

    public LogCapture() {
        TaggedLogger.setLevels(LogLevels.ALL);
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
    }

    public List<String> lines() {
        synchronized (lines) {
            return new ArrayList<>(lines);
        }
    }

    /** The first line containing {@code fragment}, or null. */
    public String find(String fragment) {
        return lines().stream().filter(line -> line.contains(fragment)).findFirst().orElse(null);
    }

    /** Waits for a line containing {@code fragment} and returns it; fails listing every line after the timeout. */
    public String await(String fragment, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int checked = 0;
            while (true) {
                for (; checked < lines.size(); checked++) {
                    if (lines.get(checked).contains(fragment)) {
                        return lines.get(checked);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no log line contains <" + fragment + ">; lines:\n"
                            + String.join("\n", lines));
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        TaggedLogger.setLevels(levels);
    }
}
