package milter.server;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;

/** Shared helpers for session tests: one event loop group, hang-guarded waits. */
final class SessionTesting {
    /** Only a guard against hangs; nothing is expected to take this long. */
    static final long GUARD_SECONDS = 30;

    private SessionTesting() {
    }

    static EventLoopGroup newGroup() {
        return Transport.best().newEventLoopGroup(1, "session-test");
    }

    static void shutdown(EventLoopGroup group) throws InterruptedException {
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).await(GUARD_SECONDS, TimeUnit.SECONDS);
    }

    static EventLoop loop(EventLoopGroup group) {
        return group.next();
    }

    static ServerSession connect(EventLoopGroup group, ConnectionSpec spec) {
        return await(ServerSession.connect(options(spec), loop(group), Transport.best()));
    }

    static ServerOptions options(ConnectionSpec spec) {
        return ServerOptions.of(spec, "test-milter");
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(GUARD_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("stage failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("stage did not complete within " + GUARD_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for the stage to fail and returns its cause, which must be of {@code type}. */
    static <E extends Throwable> E awaitFailure(CompletionStage<?> stage, Class<E> type) {
        try {
            Object value = stage.toCompletableFuture().get(GUARD_SECONDS, TimeUnit.SECONDS);
            return fail("expected " + type.getSimpleName() + " but the stage completed with " + value);
        } catch (ExecutionException e) {
            return assertInstanceOf(type, e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("stage did not complete within " + GUARD_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs {@code read} on the session's loop (where its state lives). */
    static <T> CompletionStage<T> onLoop(ServerSession session, java.util.function.Supplier<T> read) {
        return java.util.concurrent.CompletableFuture.supplyAsync(read, session.eventLoop());
    }

    static Duration millis(long millis) {
        return Duration.ofMillis(millis);
    }
}
