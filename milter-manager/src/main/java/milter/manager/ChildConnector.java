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

    /**
     * Connecting to the egg's child failed and the engine will try once more (privilege mode, the egg has a
     * {@code command}): a connector that can start children starts this one now. Called on the session's event
     * loop: must not block. Does nothing by default.
     *
     * @param sessionTag the MTA session's tag
     * @param childTag the child's log tag
     */
    default void startChild(Egg egg, long sessionTag, long childTag) {
    }
}
