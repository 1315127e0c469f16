package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.function.IntSupplier;

/**
 * Lets an event through when its upstream level ({@link EventLevels#levelOf}) is in an output's level set.
 * {@link TaggedLogger} already drops lines no output wants; this filter separates the outputs when syslog has
 * a level set of its own, and applies the level set to other loggers' lines too (so {@code none} silences
 * Netty's warnings as well).
 */
public class LevelSetFilter extends Filter<ILoggingEvent> {
    private IntSupplier levels;

    /** Filters with the main output's level set ({@link TaggedLogger#levels()}). */
    public LevelSetFilter() {
        this(TaggedLogger::levels);
    }

    public LevelSetFilter(IntSupplier levels) {
        this.levels = levels;
    }

    /** {@code main} (the default) or {@code syslog}: which of {@link TaggedLogger}'s level sets to use. */
    public void setOutput(String output) {
        if ("syslog".equalsIgnoreCase(output)) {
            levels = TaggedLogger::syslogLevels;
        } else if ("main".equalsIgnoreCase(output)) {
            levels = TaggedLogger::levels;
        } else {
            throw new IllegalArgumentException("unknown log output: <" + output + ">: should be main or syslog");
        }
    }

    @Override
    public FilterReply decide(ILoggingEvent event) {
        return LogLevels.contains(levels.getAsInt(), EventLevels.levelOf(event)) ? FilterReply.NEUTRAL
                : FilterReply.DENY;
    }
}
