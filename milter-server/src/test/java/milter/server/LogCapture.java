package milter.server;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import milter.core.log.TaggedLogger;
import org.slf4j.LoggerFactory;

/** Collects the tagged log lines written while it is open. */
final class LogCapture implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    LogCapture() {
        appender.start();
        logger.addAppender(appender);
    }

    /** Lines as {@code LEVEL [id] [tags] message}. */
    List<String> lines() {
        List<ILoggingEvent> events;
        synchronized (appender) {
            events = new ArrayList<>(appender.list);
        }
        return events.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).collect(Collectors.toList());
    }

    /** The first line containing {@code fragment}, or null. */
    String find(String fragment) {
        return lines().stream().filter(line -> line.contains(fragment)).findFirst().orElse(null);
    }

    /** The first line containing {@code fragment}; fails listing every line when there is none. */
    String require(String fragment) {
        String line = find(fragment);
        if (line == null) {
            throw new AssertionError("no log line contains <" + fragment + ">; lines:\n" + String.join("\n", lines()));
        }
        return line;
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
    }
}
