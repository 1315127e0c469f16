package milter.manager.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.manager.ChildChannel;
import milter.manager.ChildConnector;
import milter.manager.config.Egg;

/**
 * Children that live in memory and answer at once: the engine's own work without sockets. Every child answers
 * continue; at end of message each sends the modifications it was given (a fresh list per message), then continue.
 */
final class MemoryChildren implements ChildConnector {
    private static final CompletableFuture<Reply> CONTINUE = CompletableFuture.completedFuture(Reply.Continue.INSTANCE);

    private final java.util.Map<String, List<Reply>> modifications;

    /** @param modifications per egg name, what the child sends at end of message */
    MemoryChildren(java.util.Map<String, List<Reply>> modifications) {
        this.modifications = modifications;
    }

    @Override
    public CompletionStage<ChildChannel> connect(Egg egg, long tag, EventLoop loop) {
        return CompletableFuture.completedFuture(new Channel(modifications.getOrDefault(egg.name(), List.of())));
    }

    private static final class Channel implements ChildChannel {
        private final List<Reply> modifications;
        private Option option;
        private Runnable onClose;

        Channel(List<Reply> modifications) {
            this.modifications = modifications;
        }

        @Override
        public CompletionStage<Option> negotiate(Option offer) {
            // As a libmilter milter asking for nothing special: every offered action, no skipped events.
            int protocol = offer.protocol() & ~(ProtocolFlags.NO_EVENT_MASK | ProtocolFlags.NO_REPLY_MASK);
            option = new Option(offer.version(), offer.actions(), protocol);
            return CompletableFuture.completedFuture(option);
        }

        @Override
        public CompletionStage<Reply> send(Command command) {
            return CONTINUE;
        }

        @Override
        public void sendMacros(Command.DefineMacro macros) {
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ByteBuf data, Consumer<Reply> listener) {
            for (Reply modification : modifications) {
                listener.accept(modification);
            }
            return CONTINUE;
        }

        @Override
        public void abort() {
        }

        @Override
        public void quit() {
            close();
        }

        @Override
        public void close() {
            Runnable listener = onClose;
            onClose = null;
            if (listener != null) {
                listener.run();
            }
        }

        @Override
        public void onClose(Runnable listener) {
            this.onClose = listener;
        }

        @Override
        public Option option() {
            return option;
        }
    }
}
