package milter.manager;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import milter.core.net.Transport;
import milter.core.protocol.ByteBufMessage;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.manager.config.Egg;
import milter.server.MilterClosedException;
import milter.server.MilterConnectException;
import milter.server.MilterProtocolException;
import milter.server.MilterTimeoutException;
import milter.server.ServerOptions;
import milter.server.ServerSession;

/** Connects to children with milter-server's {@link ServerSession}, using the egg's four timeouts. */
public final class ServerChildConnector implements ChildConnector {
    /** How milter-server words a modification or progress that came outside end of message. */
    private static final java.util.regex.Pattern OUT_OF_STATE_REQUEST =
            java.util.regex.Pattern.compile("<([a-z-]+)> should be caused on <end-of-message> but was <");
    private final Transport transport;

    public ServerChildConnector(Transport transport) {
        this.transport = transport;
    }

    @Override
    public CompletionStage<ChildChannel> connect(Egg egg, long tag, EventLoop loop) {
        ServerOptions options = new ServerOptions(egg.connectionSpec(), egg.name(), tag,
                seconds(egg.connectionTimeout()), seconds(egg.writingTimeout()), seconds(egg.readingTimeout()),
                seconds(egg.endOfMessageTimeout()));
        return mapFailure(ServerSession.connect(options, loop, transport).thenApply(SessionChannel::new));
    }

    private static Duration seconds(double seconds) {
        return Duration.ofNanos(Math.max(1L, (long) (seconds * 1e9)));
    }

    /** Turns milter-server's exceptions into the engine's {@link ChildFailure}s. */
    static <T> CompletionStage<T> mapFailure(CompletionStage<T> stage) {
        CompletableFuture<T> mapped = new CompletableFuture<>();
        stage.whenComplete((value, error) -> {
            if (error == null) {
                mapped.complete(value);
            } else {
                mapped.completeExceptionally(toFailure(error));
            }
        });
        return mapped;
    }

    static ChildFailure toFailure(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && !(cause instanceof milter.server.MilterServerException)) {
            cause = cause.getCause();
        }
        String message = String.valueOf(cause.getMessage());
        if (cause instanceof MilterTimeoutException timeout) {
            switch (timeout.kind()) {
                case CONNECTION:
                    return new ChildFailure(ChildFailure.Kind.CONNECTION_TIMEOUT, message, cause);
                case WRITING:
                    return new ChildFailure(ChildFailure.Kind.WRITING_TIMEOUT, message, cause);
                case READING:
                    return new ChildFailure(ChildFailure.Kind.READING_TIMEOUT, message, cause);
                default:
                    return new ChildFailure(ChildFailure.Kind.END_OF_MESSAGE_TIMEOUT, message, cause);
            }
        }
        if (cause instanceof MilterConnectException) {
            // Already upstream's "Failed to connect to SPEC: REASON", with the transport's decorations removed.
            return new ChildFailure(ChildFailure.Kind.CONNECTION_ERROR, message, cause);
        }
        if (cause instanceof MilterClosedException) {
            return new ChildFailure(ChildFailure.Kind.CLOSED, message, cause);
        }
        if (cause instanceof MilterProtocolException) {
            java.util.regex.Matcher request = OUT_OF_STATE_REQUEST.matcher(message);
            if (request.lookingAt()) {
                return new ChildFailure(ChildFailure.Kind.OUT_OF_STATE_REQUEST, message, cause, request.group(1));
            }
        }
        return new ChildFailure(ChildFailure.Kind.PROTOCOL_ERROR, message, cause);
    }

    /**
     * One child connection as the engine sees it; buffers handed in stay owned by the caller. Its stages are
     * milter-server's own: they fail with milter-server's exceptions, which {@link ChildFailure#of} maps (a wrapper
     * future per command would cost more than every other object of a stage).
     */
    private static final class SessionChannel implements ChildChannel {
        private final ServerSession session;

        SessionChannel(ServerSession session) {
            this.session = session;
        }

        @Override
        public CompletionStage<Option> negotiate(Option offer) {
            return session.negotiate(offer);
        }

        @Override
        public CompletionStage<Reply> send(Command command) {
            if (command instanceof ByteBufMessage message) {
                message.retain();
            }
            return session.send(command);
        }

        @Override
        public void sendMacros(Command.DefineMacro macros) {
            session.sendMacros(macros);
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ByteBuf data, Consumer<Reply> modifications) {
            return session.endOfMessage(data.retain(), modifications);
        }

        @Override
        public void abort() {
            session.abort();
        }

        @Override
        public void quit() {
            session.quit();
        }

        @Override
        public void close() {
            session.close();
        }

        @Override
        public void onClose(Runnable listener) {
            session.closeFuture().whenComplete((ignored, error) -> listener.run());
        }

        @Override
        public Option option() {
            return session.option();
        }
    }
}
