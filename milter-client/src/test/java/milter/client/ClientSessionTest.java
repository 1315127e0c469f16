package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

class ClientSessionTest {
    static final Command.Connect CONNECT = new Command.Connect("mail.example.org", SocketFamily.INET, 50443,
            "192.0.2.10");

    static Command.Body body(String text) {
        return new Command.Body(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    @Test
    void negotiatesWithVersion6OfferIntersectingFlagsAndSendingMacroLists() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_BODY,
                ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.SKIP,
                Map.of(MacroStage.CONNECT, List.of("j", "{daemon_name}"), MacroStage.ENVELOPE_FROM,
                        List.of("{auth_authen}")));
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            Option reply = mta.negotiate(Option.offer(6));
            assertEquals(6, reply.version());
            assertEquals(ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_BODY | ActionFlags.SET_SYMBOL_LIST,
                    reply.actions());
            assertEquals(ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.SKIP,
                    reply.protocol());
            assertEquals(List.of("j", "{daemon_name}"), reply.macroRequest(MacroStage.CONNECT));
            assertEquals(List.of("{auth_authen}"), reply.macroRequest(MacroStage.ENVELOPE_FROM));
            assertInstanceOf(Reply.Continue.class, mta.call(CONNECT));
            assertEquals(reply.protocol(), milter.context.option().protocol());
            assertEquals(Option.offer(6), milter.context.offer());
            assertEquals(Boolean.TRUE, milter.context.channel().config().getOption(ChannelOption.TCP_NODELAY));
            assertEquals(harness.address, milter.context.localAddress());
            assertEquals("127.0.0.1", ((InetSocketAddress) milter.context.remoteAddress()).getAddress()
                    .getHostAddress());
        }
    }

    @Test
    void negotiatesWithVersion2OfferDroppingWhatTheMtaLacks() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_HEADERS,
                ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_DATA | ProtocolFlags.NO_UNKNOWN
                        | ProtocolFlags.NO_HELO,
                Map.of(MacroStage.CONNECT, List.of("j")));
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            Option reply = mta.negotiate(Option.offer(2));
            assertEquals(2, reply.version());
            assertEquals(ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_HEADERS, reply.actions());
            assertEquals(ProtocolFlags.NO_HELO, reply.protocol());
            assertTrue(reply.macroRequests().isEmpty());
            // Version 2 has neither DATA nor UNKNOWN: both count as skipped events.
            assertTrue(milter.context.option().has(ProtocolFlags.NO_DATA));
            assertTrue(milter.context.option().has(ProtocolFlags.NO_UNKNOWN));
            assertInstanceOf(Reply.Continue.class, mta.call(CONNECT));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
        }
    }

    @Test
    void exactNegotiationSendsTheMilterOptionUnchangedButOnlyHonoursOfferedNoReplyFlags() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.policy = NegotiationPolicy.EXACT;
        Option exact = new Option(6, ActionFlags.ADD_HEADERS | ActionFlags.SET_SYMBOL_LIST,
                ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_REPLY_CONNECT,
                Map.of(MacroStage.DATA, List.of("i")));
        milter.negotiation = offer -> exact;
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            // This MTA offers no-reply for connect but not for headers.
            Option offer = new Option(6, ActionFlags.ALL, ProtocolFlags.V2_MASK | ProtocolFlags.NO_REPLY_CONNECT);
            assertEquals(exact, mta.negotiate(offer));
            assertEquals(ProtocolFlags.NO_REPLY_CONNECT, milter.context.option().protocol());
            mta.send(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            // The header still gets its reply: the MTA did not agree to skip it.
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Header("Subject", "x")));
        }
    }

    @Test
    void negotiationThatCannotBeFulfilledClosesTheConnection() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, ActionFlags.CHANGE_ENVELOPE_FROM, 0);
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.send(new Command.Negotiate(Option.offer(2)));
            assertTrue(mta.awaitClose());
            assertTrue(mta.unread().isEmpty());
            assertNotNull(log.await("[client][error][negotiate]"));
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void everyStageReachesTheMilterWithItsMacros() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.send(new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "mx.example.com")));
            assertInstanceOf(Reply.Continue.class, mta.call(CONNECT));
            mta.send(new Command.DefineMacro(CommandType.HELO, Map.of("{tls_version}", "TLSv1.3")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("client.example.net")));
            mta.send(new Command.DefineMacro(CommandType.ENVELOPE_FROM, Map.of("{mail_addr}", "a@example.com")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.com>",
                    List.of("SIZE=10"))));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeRecipient("<b@example.org>")));
            assertInstanceOf(Reply.Continue.class, mta.call(Command.Data.INSTANCE));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Header("Subject", "Hello")));
            assertInstanceOf(Reply.Continue.class, mta.call(Command.EndOfHeader.INSTANCE));
            assertInstanceOf(Reply.Continue.class, mta.call(body("Hi\r\n")));
            mta.send(new Command.DefineMacro(CommandType.END_OF_MESSAGE, Map.of("i", "QID1")));
            List<Reply> end = mta.endOfMessage();
            assertEquals(List.of(Reply.Continue.INSTANCE), end);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Unknown("HELP")));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
        }
        assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        assertEquals(List.of(
                "negotiate 6",
                "connect mail.example.org {j=mx.example.com}",
                "helo client.example.net {j=mx.example.com, tls_version=TLSv1.3}",
                "envelope-from <a@example.com>[SIZE=10] {j=mx.example.com, tls_version=TLSv1.3,"
                        + " mail_addr=a@example.com}",
                "envelope-recipient <b@example.org> {j=mx.example.com, tls_version=TLSv1.3,"
                        + " mail_addr=a@example.com}",
                "data {j=mx.example.com, tls_version=TLSv1.3, mail_addr=a@example.com}",
                "header Subject=Hello {j=mx.example.com, tls_version=TLSv1.3, mail_addr=a@example.com}",
                "end-of-header {j=mx.example.com, tls_version=TLSv1.3, mail_addr=a@example.com}",
                "body Hi\r\n {j=mx.example.com, tls_version=TLSv1.3, mail_addr=a@example.com}",
                "end-of-message {j=mx.example.com, tls_version=TLSv1.3, mail_addr=a@example.com, i=QID1}",
                // Message macros are gone after end of message.
                "unknown HELP {j=mx.example.com, tls_version=TLSv1.3}",
                "quit",
                "closed"), milter.events());
        assertEquals(0, milter.callsOffTheEventLoop.get());
    }

    @Test
    void noReplyStagesGetNoPacketEvenWhenTheMilterAnswers() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, 0, ProtocolFlags.NO_REPLY_HEADER
                | ProtocolFlags.NO_REPLY_CONNECT | ProtocolFlags.NO_REPLY_BODY);
        milter.script = (ctx, command) -> command.type() == CommandType.HEADER || command.type() == CommandType.CONNECT
                ? Milter.reply(Reply.Reject.INSTANCE) : null;
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.send(CONNECT);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("client.example.net")));
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            mta.send(new Command.Header("Subject", "1"), new Command.Header("X-A", "2"), body("x"));
            // The first packet after the unanswered header and body is the end-of-header reply... sent here.
            assertInstanceOf(Reply.Continue.class, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            assertTrue(mta.unread().isEmpty());
            assertNotNull(log.await("[client][reply][no-reply][header]"));
            assertNotNull(log.await("[client][reply][no-reply][connect]"));
        }
    }

    @Test
    void skippedEventsSentAnywayAreAnsweredWithoutTheMilter() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, 0, ProtocolFlags.NO_HELO | ProtocolFlags.NO_ENVELOPE_RECIPIENT);
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            assertInstanceOf(Reply.Continue.class, mta.call(CONNECT));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("skipped.example.net")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            // No recipient (skipped): DATA directly after MAIL is a legal transition.
            assertInstanceOf(Reply.Continue.class, mta.call(Command.Data.INSTANCE));
        }
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "envelope-from <a@example.com>[]", "data",
                "closed"), milter.events());
    }

    @Test
    void skipReplyNeedsSkipNegotiatedAndABody() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, 0, ProtocolFlags.SKIP);
        milter.script = (ctx, command) -> command.type() == CommandType.BODY
                || command.type() == CommandType.HEADER ? Milter.reply(Reply.Skip.INSTANCE) : null;
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Header("Subject", "x")));
            assertNotNull(log.await("[client][reply][skip][invalid]"));
            mta.call(Command.EndOfHeader.INSTANCE);
            assertInstanceOf(Reply.Skip.class, mta.call(body("chunk")));
        }
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            milter.negotiation = offer -> new Option(6, 0, 0);
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            assertInstanceOf(Reply.Continue.class, mta.call(body("chunk")));
        }
    }

    @Test
    void severalMessagesPerConnectionWithAbortAndRedundantAbort() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.Helo("client.example.net"));
            mta.send(new Command.DefineMacro(CommandType.ENVELOPE_FROM, Map.of("i", "Q1")));
            mta.call(new Command.EnvelopeFrom("<one@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            mta.send(Command.Abort.INSTANCE, Command.Abort.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<two@example.com>")));
            mta.call(new Command.EnvelopeRecipient("<c@example.org>"));
            mta.call(Command.Data.INSTANCE);
            mta.call(Command.EndOfHeader.INSTANCE);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Abort.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<three@example.com>")));
            mta.call(new Command.EnvelopeRecipient("<d@example.org>"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
        }
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "helo client.example.net",
                "envelope-from <one@example.com>[] {i=Q1}", "envelope-recipient <b@example.org> {i=Q1}", "abort",
                "envelope-from <two@example.com>[]", "envelope-recipient <c@example.org>", "data", "end-of-header",
                "end-of-message", "envelope-from <three@example.com>[]", "envelope-recipient <d@example.org>",
                "end-of-message", "closed"),
                milter.events());
    }

    @Test
    void newMessageWithoutAbortAbortsTheOpenOne() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<one@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            mta.call(Command.Data.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("again.example.net")));
        }
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "envelope-from <one@example.com>[]",
                "envelope-recipient <b@example.org>", "data", "abort", "helo again.example.net", "closed"),
                milter.events());
    }

    @Test
    void messageLevelRejectEndsTheMessage() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> command instanceof Command.EnvelopeFrom from
                && from.address().contains("bad") ? Milter.reply(Reply.Reject.INSTANCE) : null;
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            assertInstanceOf(Reply.Reject.class, mta.call(new Command.EnvelopeFrom("<bad@example.com>")));
            mta.send(Command.Abort.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<good@example.com>")));
        }
        // The abort after the rejected MAIL is outside a message: not passed on.
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "envelope-from <bad@example.com>[]",
                "envelope-from <good@example.com>[]", "closed"), milter.events());
    }

    @Test
    void quitClosesTheConnectionAfterTheMilterHasQuit() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            assertTrue(mta.unread().isEmpty());
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "quit", "closed"), milter.events());
    }

    @Test
    void quitNewConnectionKeepsTheSocketAndStartsOverWithConnect() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.send(new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "mx")));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.QuitNewConnection.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Connect("second.example.org",
                    SocketFamily.UNKNOWN, 0, null)));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
        }
        assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        assertEquals(List.of("negotiate 6", "connect mail.example.org {j=mx}", "envelope-from <a@example.com>[] {j=mx}",
                "envelope-recipient <b@example.org> {j=mx}", "end-of-message {j=mx}", "quit-new-connection", "connect second.example.org", "quit", "closed"),
                milter.events());
    }

    @Test
    void mtaDisconnectMidSessionCallsClosedOnce() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter))) {
            try (FakeMta mta = harness.connect()) {
                mta.negotiate(Option.offer(6));
                mta.call(CONNECT);
                mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            }
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
        assertEquals(1, milter.events().stream().filter("closed"::equals).count());
    }

    @Test
    void asyncRepliesCompletedLaterFromAnotherThreadKeepOrder() throws Exception {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, 0, ProtocolFlags.NO_REPLY_HEADER);
        milter.script = (ctx, command) -> {
            CompletableFuture<Reply> later = new CompletableFuture<>();
            Reply reply = command.type() == CommandType.END_OF_HEADER ? Reply.TemporaryFailure.INSTANCE
                    : Reply.Continue.INSTANCE;
            timer.schedule(() -> later.complete(reply), 20, TimeUnit.MILLISECONDS);
            return later;
        };
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            mta.send(new Command.Header("A", "1"), new Command.Header("B", "2"), new Command.Header("C", "3"),
                    Command.EndOfHeader.INSTANCE);
            assertInstanceOf(Reply.TemporaryFailure.class, mta.read());
        } finally {
            timer.shutdownNow();
        }
        List<String> events = milter.events();
        assertEquals(List.of("header A=1", "header B=2", "header C=3", "end-of-header"),
                events.subList(4, 8));
    }

    @Test
    void invalidReplyCodeBecomesPlainRejectOrTemporaryFailure() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> {
            if (command instanceof Command.EnvelopeRecipient rcpt) {
                switch (rcpt.address()) {
                    case "<mismatch@example.org>":
                        return Milter.reply(new Reply.ReplyCode("550 4.7.1 class mismatch"));
                    case "<temp@example.org>":
                        return Milter.reply(new Reply.ReplyCode("451 4.7.1 100% sure"));
                    case "<good@example.org>":
                        return Milter.reply(new Reply.ReplyCode("554 5.7.1 Go away"));
                    default:
                        return Milter.reply(new Reply.ReplyCode("250 2.0.0 not an error"));
                }
            }
            return null;
        };
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            assertInstanceOf(Reply.Reject.class, mta.call(new Command.EnvelopeRecipient("<mismatch@example.org>")));
            assertInstanceOf(Reply.TemporaryFailure.class,
                    mta.call(new Command.EnvelopeRecipient("<temp@example.org>")));
            assertInstanceOf(Reply.TemporaryFailure.class,
                    mta.call(new Command.EnvelopeRecipient("<other@example.org>")));
            assertEquals(new Reply.ReplyCode("554 5.7.1 Go away"),
                    mta.call(new Command.EnvelopeRecipient("<good@example.org>")));
            assertEquals(3, log.matching("[client][error][reply-code]").size());
        }
    }

    @Test
    void failingMilterIsAnsweredWithTemporaryFailure() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.script = (ctx, command) -> {
            if (command.type() == CommandType.HELO) {
                throw new IllegalStateException("boom");
            }
            if (command instanceof Command.EnvelopeFrom from && from.address().contains("fail")) {
                return CompletableFuture.failedFuture(new IllegalStateException("later boom"));
            }
            if (command.type() == CommandType.ENVELOPE_RECIPIENT) {
                return Milter.reply(new Reply.AddHeader("X", "y"));
            }
            return null;
        };
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(CONNECT);
            assertInstanceOf(Reply.TemporaryFailure.class, mta.call(new Command.Helo("h")));
            assertInstanceOf(Reply.TemporaryFailure.class, mta.call(new Command.EnvelopeFrom("<fail@example.com>")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            assertInstanceOf(Reply.TemporaryFailure.class,
                    mta.call(new Command.EnvelopeRecipient("<b@example.org>")));
            assertNotNull(log.await("[client][error][callback][helo]"));
            assertNotNull(log.await("[client][error][callback][envelope-from]"));
            assertNotNull(log.await("[client][error][reply][invalid]"));
        }
    }

    @Test
    void maxDataSizeNegotiatedRaisesTheFrameLimit() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        milter.negotiation = offer -> new Option(6, 0, ProtocolFlags.MAX_DATA_SIZE_256K);
        String big = "x".repeat(100_000);
        try (ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            Option reply = mta.negotiate(Option.offer(6).withProtocol(ProtocolFlags.ALL
                    | ProtocolFlags.MAX_DATA_SIZE_256K));
            assertEquals(ProtocolFlags.MAX_DATA_SIZE_256K, reply.protocol());
            mta.call(CONNECT);
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            mta.call(new Command.EnvelopeRecipient("<b@example.org>"));
            // One B frame of 100000 bytes: over the default limit, under the negotiated one.
            byte[] header = {0, 1, (byte) 0x86, (byte) 0xA1, 'B'};
            byte[] frame = new byte[header.length + big.length()];
            System.arraycopy(header, 0, frame, 0, header.length);
            System.arraycopy(big.getBytes(StandardCharsets.ISO_8859_1), 0, frame, header.length, big.length());
            mta.sendRaw(frame);
            assertInstanceOf(Reply.Continue.class, mta.read());
        }
        assertTrue(milter.events().contains("body " + big));
    }

    @Test
    void defaultMilterAnswersContinueEverywhere() throws Exception {
        try (ClientHarness harness = new ClientHarness(context -> new Milter() { });
                FakeMta mta = harness.connect()) {
            Option reply = mta.negotiate(Option.offer(6));
            assertEquals(new Option(6, ActionFlags.ALL & ~ActionFlags.SET_SYMBOL_LIST, 0), reply);
            assertInstanceOf(Reply.Continue.class, mta.call(CONNECT));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeRecipient("<b@example.org>")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
        }
    }
}
