package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** A whole session through the manager with two children, over real sockets. */
class BasicFlowTest {

    private static final Option OFFER = new Option(6, ActionFlags.ALL, ProtocolFlags.ALL);

    static void envelope(FakeMta mta) throws Exception {
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("mail.example.org", SocketFamily.INET,
                50443, "192.0.2.10")));
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("client.example.net")));
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<from@example.org>")));
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<to@example.com>")));
        assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
    }

    @Test
    void cleanMessageGoesThroughBothChildrenInOrder() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(OFFER);
            assertEquals(6, reply.version());
            assertEquals(ActionFlags.ALL, reply.actions());
            mta.send(new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "mx.example.com")));
            envelope(mta);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "from@example.org")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("Subject", "hello")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Body(
                    io.netty.buffer.Unpooled.copiedBuffer("Hi\r\n", java.nio.charset.StandardCharsets.US_ASCII))));
            List<Reply> end = mta.endOfMessage();
            assertEquals(List.of(Reply.Continue.INSTANCE), end);
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            a.closed().join();
            b.closed().join();
            List<String> expected = List.of("negotiate 6", "connect mail.example.org 192.0.2.10 {j=mx.example.com}",
                    "helo client.example.net", "mail <from@example.org>", "rcpt <to@example.com>", "data",
                    "header From=from@example.org", "header Subject=hello", "eoh", "body Hi\r\n", "eom", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void headersAddedByBothChildrenReachTheMtaAsInserts() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddHeader("X1", "1"));
            harness.child("b").modify(new Reply.AddHeader("X2", "2"));
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(OFFER);
            envelope(mta);
            mta.call(new Command.Header("From", "from@example.org"));
            mta.call(Command.EndOfHeader.INSTANCE);
            assertEquals(List.of(new Reply.InsertHeader(1, "X1", "1"), new Reply.InsertHeader(2, "X2", "2"),
                    Reply.Continue.INSTANCE), mta.endOfMessage());
        }
    }

    @Test
    void laterChildSeesTheBodyTheEarlierOneReplaced() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replaceBody("A's body\r\n");
            ScriptedChild b = harness.child("b").replaceBody("B's body\r\n");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(OFFER);
            envelope(mta);
            mta.call(Command.EndOfHeader.INSTANCE);
            mta.call(new Command.Body(io.netty.buffer.Unpooled.copiedBuffer("original\r\n",
                    java.nio.charset.StandardCharsets.US_ASCII)));
            List<Reply> end = mta.endOfMessage();
            assertEquals(2, end.size(), end.toString());
            Reply.ReplaceBody body = (Reply.ReplaceBody) end.get(0);
            assertEquals("B's body\r\n", body.content().toString(java.nio.charset.StandardCharsets.US_ASCII));
            body.release();
            assertEquals(Reply.Continue.INSTANCE, end.get(1));
            assertTrue(a.events().contains("body original\r\n"), a.events().toString());
            assertTrue(b.events().contains("body A's body\r\n"), b.events().toString());
        }
    }

    @Test
    void rejectAtMailRefusesTheMessageAndTheNextMessageGoesToBothAgain() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.ENVELOPE_FROM,
                    command -> ((Command.EnvelopeFrom) command).address().contains("spam")
                            ? Reply.Reject.INSTANCE : Reply.Continue.INSTANCE);
            ScriptedChild b = harness.child("b").reply(CommandType.ENVELOPE_FROM, Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(OFFER);
            mta.call(new Command.Connect("host", SocketFamily.INET, 25, "192.0.2.1"));
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<spam@example.org>")));
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<ham@example.org>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<to@example.com>")));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(List.of("negotiate 6", "connect host 192.0.2.1", "mail <spam@example.org>",
                    "mail <ham@example.org>", "rcpt <to@example.com>", "quit"), a.events());
            assertEquals(List.of("negotiate 6", "connect host 192.0.2.1", "mail <spam@example.org>",
                    "mail <ham@example.org>", "quit"), b.events());
        }
    }

    @Test
    void hangingChildTimesOutWithItsFallbackWhileTheOtherStillWorks() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild slow = harness.child("slow", egg -> egg.readingTimeout(0.2)).delay(CommandType.HELO, -1);
            harness.child("fine").reply(CommandType.HELO, Reply.Continue.INSTANCE);
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(OFFER);
            mta.call(new Command.Connect("host", SocketFamily.INET, 25, "192.0.2.1"));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("client")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.org>")));
            slow.closed().join();
            assertEquals(List.of("negotiate 6", "connect host 192.0.2.1", "helo client"), slow.events());
        }
    }
}
