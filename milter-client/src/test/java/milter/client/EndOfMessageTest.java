package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevel;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

class EndOfMessageTest {

    private static void startMessage(FakeMta mta) throws Exception {
        mta.call(ClientSessionTest.CONNECT);
        mta.call(new Command.EnvelopeFrom("<a@example.com>"));
        mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
        mta.call(Command.Data.INSTANCE);
        mta.call(new Command.Header("Subject", "Hello"));
        mta.call(Command.EndOfHeader.INSTANCE);
        mta.call(ClientSessionTest.body("Body\r\n"));
    }

    @Test
    void everyModificationGoesOutInOrderBeforeTheFinalReply() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        List<Boolean> accepted = new ArrayList<>();
        milter.script = (ctx, command) -> {
            if (command.type() != CommandType.END_OF_MESSAGE) {
                return null;
            }
            accepted.add(ctx.send(Reply.Progress.INSTANCE));
            accepted.add(ctx.send(new Reply.AddHeader("X-Added", "yes")));
            accepted.add(ctx.send(new Reply.InsertHeader(0, "X-First", "1")));
            accepted.add(ctx.send(new Reply.ChangeHeader(1, "Subject", "[SPAM] Hello")));
            accepted.add(ctx.send(new Reply.ChangeHeader(1, "X-Old", "")));
            accepted.add(ctx.send(new Reply.AddRecipient("<new@example.com>")));
            accepted.add(ctx.send(new Reply.AddRecipientWithParameters("<par@example.com>", "NOTIFY=NEVER")));
            accepted.add(ctx.send(new Reply.DeleteRecipient("<b@example.org>")));
            accepted.add(ctx.send(new Reply.ChangeFrom("<bounce@example.com>", "SIZE=100")));
            accepted.add(ctx.send(new Reply.ReplaceBody(Unpooled.copiedBuffer("New body\r\n",
                    StandardCharsets.ISO_8859_1))));
            accepted.add(ctx.send(new Reply.Quarantine("suspicious")));
            return Milter.reply(Reply.Accept.INSTANCE);
        };
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            startMessage(mta);
            List<Reply> replies = mta.endOfMessage();
            assertEquals(List.of(
                    Reply.Progress.INSTANCE,
                    new Reply.AddHeader("X-Added", "yes"),
                    new Reply.InsertHeader(0, "X-First", "1"),
                    new Reply.ChangeHeader(1, "Subject", "[SPAM] Hello"),
                    new Reply.ChangeHeader(1, "X-Old", ""),
                    new Reply.AddRecipient("<new@example.com>"),
                    new Reply.AddRecipientWithParameters("<par@example.com>", "NOTIFY=NEVER"),
                    new Reply.DeleteRecipient("<b@example.org>"),
                    new Reply.ChangeFrom("<bounce@example.com>", "SIZE=100")),
                    replies.subList(0, 9));
            Reply.ReplaceBody body = assertInstanceOf(Reply.ReplaceBody.class, replies.get(9));
            assertEquals("New body\r\n", body.content().toString(StandardCharsets.ISO_8859_1));
            assertEquals(List.of(new Reply.Quarantine("suspicious"), Reply.Accept.INSTANCE),
                    replies.subList(10, 12));
            assertEquals(12, replies.size());
            assertFalse(accepted.contains(false));
            LogCapture.Line quarantine = log.await("[reply][end-of-message][quarantine]("
                    + milter.context.sessionId() + ")");
            assertNotNull(quarantine);
            assertEquals(LogLevel.STATISTICS, quarantine.level());
        }
    }

    @Test
    void progressIsFlushedAtOnceWhileModificationsWaitForTheFinalReply() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        CompletableFuture<Reply> finalReply = new CompletableFuture<>();
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> {
            if (command.type() != CommandType.END_OF_MESSAGE) {
                return null;
            }
            ctx.send(new Reply.AddHeader("X-Buffered", "1"));
            ctx.send(Reply.Progress.INSTANCE);
            ctx.send(new Reply.AddHeader("X-Late", "2"));
            return finalReply;
        };
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            startMessage(mta);
            mta.send(new Command.EndOfMessage());
            // Progress arrives while the final reply is still outstanding (and takes the earlier packet along).
            assertEquals(new Reply.AddHeader("X-Buffered", "1"), mta.read());
            assertEquals(Reply.Progress.INSTANCE, mta.read());
            // Completed from another thread, modifications sent from there too: all handed to the event loop.
            timer.execute(() -> {
                milter.context.send(new Reply.AddHeader("X-Other-Thread", "3"));
                finalReply.complete(Reply.Continue.INSTANCE);
            });
            assertEquals(List.of(new Reply.AddHeader("X-Late", "2"), new Reply.AddHeader("X-Other-Thread", "3"),
                    Reply.Continue.INSTANCE), mta.readUntilFinal());
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void sendOutsideEndOfMessageOrWithoutTheActionIsRefused() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, ActionFlags.ADD_HEADERS, 0);
        List<Boolean> results = new ArrayList<>();
        milter.script = (ctx, command) -> {
            if (command.type() == CommandType.HEADER) {
                results.add(ctx.send(new Reply.AddHeader("X-Early", "no")));
            }
            if (command.type() == CommandType.END_OF_MESSAGE) {
                results.add(ctx.send(new Reply.ChangeFrom("<x@example.com>")));
                results.add(ctx.send(new Reply.ReplaceBody(Unpooled.copiedBuffer("b", StandardCharsets.US_ASCII))));
                results.add(ctx.send(Reply.Reject.INSTANCE));
                results.add(ctx.send(new Reply.AddHeader("", "empty name")));
                results.add(ctx.send(new Reply.AddHeader("X-Ok", "yes")));
            }
            return null;
        };
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            startMessage(mta);
            assertEquals(List.of(new Reply.AddHeader("X-Ok", "yes"), Reply.Continue.INSTANCE), mta.endOfMessage());
            assertEquals(List.of(false, false, false, false, false, true), results);
            assertTrue(log.has("[client][error][send][add-header] only allowed while end of message is processed"));
            assertTrue(log.has("[client][error][send][change-from] needs the <change-envelope-from> action"));
            assertTrue(log.has("[client][error][send][replace-body] needs the <change-body> action"));
            assertTrue(log.has("[client][error][send][reject] not a modification or progress"));
            assertTrue(log.has("[client][error][send][add-header] cannot encode <add-header>"));
        }
    }

    @Test
    void sendAfterTheFinalReplyIsRefused() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            startMessage(mta);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            CompletableFuture<Boolean> late = new CompletableFuture<>();
            milter.context.eventLoop().execute(() -> late.complete(milter.context.send(Reply.Progress.INSTANCE)));
            assertFalse(late.get(20, TimeUnit.SECONDS));
            assertNotNull(log.await("[client][error][send][progress]"));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<next@example.com>")));
        }
    }

    @Test
    void endOfMessageDataReachesTheMilter() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        List<String> data = new ArrayList<>();
        milter.script = (ctx, command) -> {
            if (command instanceof Command.EndOfMessage eom) {
                data.add(eom.content().toString(StandardCharsets.ISO_8859_1));
                return Milter.reply(new Reply.ReplyCode("554 5.7.1 No thanks"));
            }
            return null;
        };
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            startMessage(mta);
            mta.send(new Command.EndOfMessage(Unpooled.copiedBuffer("tail", StandardCharsets.ISO_8859_1)));
            assertEquals(new Reply.ReplyCode("554 5.7.1 No thanks"), mta.read());
        }
        assertEquals(List.of("tail"), data);
    }
}
