package milter.manager.engine;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import milter.core.log.LogLevel;
import milter.core.log.LogLevels;
import milter.core.log.LogMarkers;
import milter.core.log.TaggedLogger;
import org.slf4j.LoggerFactory;

/** Collects the lines of the tagged logger while open; lines arrive from event loop threads. */
final class LogCapture implements AutoCloseable {
    /** One captured line with its upstream level. */
    record Line(LogLevel level, String text) {
        @Override
        public String toString() {
            return (level == null ? "?" : level.nick()) + ": " + text;
        }
    }

    private final Logger logger = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
    private final List<Line> lines = new ArrayList<>();
    private final int previousLevels = TaggedLogger.levels();
    private final Level previousLevel = logger.getLevel();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            LogLevel level = event.getMarkerList() == null || event.getMarkerList().isEmpty() ? null
                    : LogMarkers.levelOf(event.getMarkerList().get(0));
            synchronized (lines) {
                lines.add(new Line(level, event.getFormattedMessage()));
                lines.notifyAll();
            }
        }
    };

    LogCapture() {
        this(LogLevels.ALL);
    }

    LogCapture(int levels) {
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        logger.setLevel(Level.TRACE);
        TaggedLogger.setLevels(levels);
    }

    List<Line> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Texts of the lines containing {@code part}. */
    List<String> matching(String part) {
        List<String> found = new ArrayList<>();
        for (Line line : lines()) {
            if (line.text().contains(part)) {
                found.add(line.text());
            }
        }
        return found;
    }

    /** Lines whose whole text matches {@code regex}. */
    List<Line> matchingRegex(String regex) {
        Pattern pattern = Pattern.compile(regex);
        List<Line> found = new ArrayList<>();
        for (Line line : lines()) {
            if (pattern.matcher(line.text()).matches()) {
                found.add(line);
            }
        }
        return found;
    }

    boolean has(String part) {
        return !matching(part).isEmpty();
    }

    /** Waits (hang guard: 20 s) for a line containing {@code part}; fails with every line when none came. */
    Line await(String part) throws InterruptedException {
        Line line = await(candidate -> candidate.text().contains(part), Duration.ofSeconds(20));
        if (line == null) {
            throw new AssertionError("no log line contains <" + part + ">; lines:\n" + dump());
        }
        return line;
    }

    /** Waits (hang guard: 20 s) for a line whose whole text matches {@code regex}; fails when none came. */
    Line awaitRegex(String regex) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        Line line = await(candidate -> pattern.matcher(candidate.text()).matches(), Duration.ofSeconds(20));
        if (line == null) {
            throw new AssertionError("no log line matches <" + regex + ">; lines:\n" + dump());
        }
        return line;
    }

    /** Waits (hang guard: 20 s) until {@code count} lines match {@code regex} as a whole; returns them. */
    List<Line> awaitCount(String regex, int count) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        synchronized (lines) {
            while (true) {
                List<Line> found = new ArrayList<>();
                for (Line line : lines) {
                    if (pattern.matcher(line.text()).matches()) {
                        found.add(line);
                    }
                }
                if (found.size() >= count) {
                    return found;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(found.size() + " of " + count + " lines match <" + regex
                            + ">; lines:\n" + dump());
                }
                lines.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    Line await(Predicate<Line> wanted, Duration guard) throws InterruptedException {
        long deadline = System.nanoTime() + guard.toNanos();
        synchronized (lines) {
            while (true) {
                for (Line line : lines) {
                    if (wanted.test(line)) {
                        return line;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                lines.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    String dump() {
        StringBuilder out = new StringBuilder();
        for (Line line : lines()) {
            out.append(line).append('\n');
        }
        return out.toString();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        appender.stop();
        logger.setLevel(previousLevel);
        TaggedLogger.setLevels(previousLevels);
    }
}
