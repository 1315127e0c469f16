package milter.manager.metrics;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.manager.ChildChannel;
import milter.manager.ChildConnector;
import milter.manager.ChildFailure;
import milter.manager.config.Egg;

/**
 * Counts what child milters answer, and how they fail, around another connector. Each child connection gets a
 * wrapper that observes its replies itself (no per-command lambda); the milter's data points are looked up once
 * per connection.
 */
public final class MeteredChildConnector implements ChildConnector {
    private final ChildConnector delegate;
    private final ManagerMetrics metrics;

    public MeteredChildConnector(ChildConnector delegate, ManagerMetrics metrics) {
        this.delegate = delegate;
        this.metrics = metrics;
    }

    @Override
    public CompletionStage<ChildChannel> connect(Egg egg, long tag, EventLoop loop) {
        ManagerMetrics.ChildMeters meters = metrics.child(egg.name());
        return delegate.connect(egg, tag, loop).handle((channel, error) -> {
            if (error != null) {
                meters.failed(ChildFailure.of(error).kind());
                throw error instanceof RuntimeException runtime ? runtime : new java.util.concurrent.CompletionException(
                        error);
            }
            return new MeteredChannel(channel, meters);
        });
    }

    @Override
    public void startChild(Egg egg, long sessionTag, long childTag) {
        delegate.startChild(egg, sessionTag, childTag);
    }

    private static final class MeteredChannel implements ChildChannel, BiConsumer<Reply, Throwable> {
        private final ChildChannel channel;
        private final ManagerMetrics.ChildMeters meters;

        MeteredChannel(ChildChannel channel, ManagerMetrics.ChildMeters meters) {
            this.channel = channel;
            this.meters = meters;
        }

        @Override
        public void accept(Reply reply, Throwable error) {
            if (error != null) {
                meters.failed(ChildFailure.of(error).kind());
            } else {
                meters.answered(Verdict.of(reply));
            }
        }

        @Override
        public CompletionStage<Option> negotiate(Option offer) {
            return channel.negotiate(offer).whenComplete((option, error) -> {
                if (error != null) {
                    meters.failed(ChildFailure.of(error).kind());
                } else {
                    meters.alive();
                }
            });
        }

        @Override
        public CompletionStage<Reply> send(Command command) {
            return channel.send(command).whenComplete(this);
        }

        @Override
        public void sendMacros(Command.DefineMacro macros) {
            channel.sendMacros(macros);
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ByteBuf data, Consumer<Reply> modifications) {
            return channel.endOfMessage(data, modifications).whenComplete(this);
        }

        @Override
        public void abort() {
            channel.abort();
        }

        @Override
        public void quit() {
            channel.quit();
        }

        @Override
        public void close() {
            channel.close();
        }

        @Override
        public void onClose(Runnable listener) {
            channel.onClose(listener);
        }

        @Override
        public Option option() {
            return channel.option();
        }
    }
}
