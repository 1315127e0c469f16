package milter.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import milter.core.codec.CommandDecoder;
import milter.core.codec.CommandEncoder;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;

/** Failures that real sockets cannot produce on demand: writes that fail, an MTA that floods the queue. */
class SessionFailureTest {

    /** Fails every write while {@link #failing} is set, as a broken socket would. */
    static final class FailingWrites extends ChannelOutboundHandlerAdapter {
        volatile boolean failing;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (failing) {
                ReferenceCountUtil.release(msg);
                promise.setFailure(new IOException("Broken pipe"));
            } else {
                ReferenceCountUtil.release(msg);
                promise.setSuccess();
            }
        }
    }

    private static ByteBuf encode(Command... commands) {
        List<Object> out = new ArrayList<>();
        for (Command command : commands) {
            CommandEncoder.encode(UnpooledByteBufAllocator.DEFAULT, command, out);
        }
        ByteBuf all = Unpooled.buffer();
        for (Object part : out) {
            all.writeBytes((ByteBuf) part);
            ReferenceCountUtil.release(part);
        }
        return all;
    }

    private static EmbeddedChannel channel(FailingWrites writes, ScriptedMilter milter) {
        return new EmbeddedChannel(writes, new CommandDecoder(),
                new ClientSession(1, ScriptedMilter.factory(milter), IllegalCommandPolicy.CONTINUE, 0));
    }

    private static Command[] message() {
        return new Command[] {new Command.Negotiate(Option.offer(6)), ClientSessionTest.CONNECT,
            new Command.EnvelopeFrom("<a@example.com>"), new Command.EnvelopeRecipient("<b@example.org>"),
            new Command.EndOfMessage()};
    }

    @Test
    void failedReplyWriteIsLoggedAndClosesTheConnection() throws Exception {
        FailingWrites writes = new FailingWrites();
        writes.failing = true;
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture()) {
            EmbeddedChannel channel = channel(writes, milter);
            channel.writeInbound(encode(new Command.Negotiate(Option.offer(6))));
            assertNotNull(log.await("[client][error][write] failed to write <negotiate>"));
            assertFalse(channel.isOpen());
            assertTrue(milter.events().contains("closed"));
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void failedBufferedModificationWriteIsLogged() throws Exception {
        FailingWrites writes = new FailingWrites();
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> {
            if (command.type() == CommandType.END_OF_MESSAGE) {
                writes.failing = true;
                ctx.send(new Reply.AddHeader("X-Lost", "1"));
            }
            return null;
        };
        try (LogCapture log = new LogCapture()) {
            EmbeddedChannel channel = channel(writes, milter);
            channel.writeInbound(encode(message()));
            assertNotNull(log.await("[client][error][buffered-packets][write] failed to write <add-header>"));
            assertFalse(channel.isOpen());
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void failedFinalEndOfMessageReplyIsLogged() throws Exception {
        FailingWrites writes = new FailingWrites();
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> {
            if (command.type() == CommandType.END_OF_MESSAGE) {
                ctx.send(new Reply.AddHeader("X-Ok", "1"));
                writes.failing = true;
            }
            return null;
        };
        try (LogCapture log = new LogCapture()) {
            EmbeddedChannel channel = channel(writes, milter);
            channel.writeInbound(encode(message()));
            assertNotNull(log.await("[client][error][reply-on-end-of-message][flush] failed to write <continue>"));
            assertFalse(channel.isOpen());
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void mtaThatFloodsTheQueueIsDisconnected() throws Exception {
        FailingWrites writes = new FailingWrites();
        ScriptedMilter milter = new ScriptedMilter();
        CompletableFuture<Reply> never = new CompletableFuture<>();
        milter.script = (ctx, command) -> never;
        try (LogCapture log = new LogCapture()) {
            EmbeddedChannel channel = channel(writes, milter);
            channel.writeInbound(encode(new Command.Negotiate(Option.offer(6)), ClientSessionTest.CONNECT));
            Command[] flood = new Command[ClientSession.MAX_QUEUED_COMMANDS + 1];
            for (int i = 0; i < flood.length; i++) {
                flood[i] = new Command.DefineMacro(CommandType.HELO, java.util.Map.of());
            }
            channel.writeInbound(encode(flood));
            assertNotNull(log.await("[client][error][queue][overflow]"));
            assertFalse(channel.isOpen());
            assertTrue(milter.events().contains("closed"));
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void bodyOfAStageThatNeverCompletesIsReleasedWhenTheConnectionCloses() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        java.util.concurrent.atomic.AtomicReference<Command.Body> seen = new java.util.concurrent.atomic.AtomicReference<>();
        CompletableFuture<Reply> never = new CompletableFuture<>();
        milter.script = (ctx, command) -> {
            if (command instanceof Command.Body body) {
                seen.set(body);
                return never;
            }
            return null;
        };
        EmbeddedChannel channel = channel(new FailingWrites(), milter);
        channel.writeInbound(encode(new Command.Negotiate(Option.offer(6)), ClientSessionTest.CONNECT,
                new Command.EnvelopeFrom("<a@example.com>"), new Command.EnvelopeRecipient("<b@example.org>"),
                Command.EndOfHeader.INSTANCE,
                new Command.Body(Unpooled.copiedBuffer("pending", java.nio.charset.StandardCharsets.US_ASCII))));
        assertNotNull(seen.get());
        assertTrue(seen.get().content().refCnt() > 0);
        channel.close();
        assertTrue(milter.events().contains("closed"));
        org.junit.jupiter.api.Assertions.assertEquals(0, seen.get().content().refCnt());
        // The stage completing after all must not release it a second time.
        never.complete(Reply.Continue.INSTANCE);
        channel.runPendingTasks();
        channel.finishAndReleaseAll();
    }

    @Test
    void milterFactoryFailureClosesTheConnection() throws Exception {
        try (LogCapture log = new LogCapture()) {
            EmbeddedChannel channel = new EmbeddedChannel(new CommandDecoder(), new ClientSession(2, context -> {
                throw new IllegalStateException("no milter today");
            }, IllegalCommandPolicy.CONTINUE, 0));
            assertNotNull(log.await("[client][error][milter][create]"));
            assertFalse(channel.isOpen());
            channel.finishAndReleaseAll();
        }
    }
}
