package milter.manager;

import io.netty.channel.EventLoop;
import java.util.concurrent.CompletionStage;
import milter.manager.config.Egg;

/** Opens a connection to a child milter on a given event loop (the session's). */
@FunctionalInterface
public interface ChildConnector {

    /**
     * Connects to the egg's connection spec within its connection timeout.
     *
     * @param tag the child's log tag
     */
    CompletionStage<ChildChannel> connect(Egg egg, long tag, EventLoop loop);
}
