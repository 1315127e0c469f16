package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** End of message verdicts, abort, further messages and the end of the session (behaviour cases 35-37, 46-47). */
class EndOfMessageTest {

    private static final List<String> MESSAGE = List.of("header From=kou+sender@example.com", "eoh", "body Hi,");

    private static List<String> events(List<String> tail) {
        List<String> all = new ArrayList<>(Flow.ENVELOPE_EVENTS);
        all.addAll(tail);
        return all;
    }

    private static List<String> message(String... after) {
        List<String> all = new ArrayList<>(MESSAGE);
        all.addAll(List.of(after));
        return events(all);
    }

    private static void quit(FakeMta mta, ScriptedChild... children) throws Exception {
        mta.send(Command.Quit.INSTANCE);
        for (ScriptedChild child : children) {
            child.closed().join();
        }
    }

    @Test
    void refusalAtEndOfMessageIsRepliedAndTheSecondChildNeverSeesTheMessage() throws Exception {
        // end-of-message-{reject,temporary-failure,discard}.txt, end-of-message-reply-code-*.txt
        List<Reply> refusals = List.of(Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE, Reply.Discard.INSTANCE,
                new Reply.ReplyCode("554 5.7.1 virus Email.Trojan-2 detected by ClamAV - http://www.clamav.net"),
                new Reply.ReplyCode("451 4.7.0 DNS timeout"));
        for (Reply refusal : refusals) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a").replyEndOfMessageContaining("Refuse", refusal);
                ScriptedChild b = harness.child("b");
                harness.start();
                FakeMta mta = Flow.afterBody(harness);
                mta.send(Flow.endOfMessage("Refuse"));
                assertEquals(List.of(refusal), mta.readUntilFinal());
                quit(mta, a, b);
                assertEquals(message("eom Refuse", "quit"), a.events(), refusal.toString());
                assertEquals(events(List.of("abort", "quit")), b.events(), refusal.toString());
            }
        }
    }

    @Test
    void acceptAtEndOfMessageByOneChildLeavesTheOthersVerdict() throws Exception {
        // end-of-message-accept.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyEndOfMessageContaining("Accept", Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(Flow.endOfMessage("Accept"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.readUntilFinal());
            quit(mta, a, b);
            assertEquals(message("eom Accept", "quit"), a.events());
            assertEquals(message("eom Accept", "quit"), b.events());
        }
    }

    @Test
    void everyChildAcceptingAtEndOfMessageAccepts() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.END_OF_MESSAGE, Reply.Accept.INSTANCE);
            harness.child("b").reply(CommandType.END_OF_MESSAGE, Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Accept.INSTANCE), mta.endOfMessage());
        }
    }

    @Test
    void abortInTheMessageReachesTheChildrenInsideIt() throws Exception {
        // abort-on-end-of-message.txt: the MTA gives up before end of message; both children are inside it.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<next@example.com>")));
            quit(mta, a, b);
            assertEquals(message("abort", "mail <next@example.com>", "quit"), a.events());
            assertEquals(events(List.of("abort", "mail <next@example.com>", "quit")), b.events());
        }
    }

    @Test
    void abortAfterEndOfMessageIsNotPassedOn() throws Exception {
        // The message is over once end of message was answered: our client drops a late abort (so does libmilter's
        // state machine for the children), and nothing is replied.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Abort.INSTANCE);
            quit(mta, a, b);
            assertTrue(mta.awaitClose());
            assertEquals(List.of(), mta.unread());
            assertEquals(message("eom", "quit"), a.events());
            assertEquals(message("eom", "quit"), b.events());
        }
    }

    @Test
    void verdictOfOneMessageDoesNotLeakIntoTheNext() throws Exception {
        // end-of-message-discard-again.txt and quirk Q1 fixed: statuses of message stages start afresh.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyEndOfMessageContaining("Reject", Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(Flow.endOfMessage("Reject"));
            assertEquals(List.of(Reply.Reject.INSTANCE), mta.readUntilFinal());
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender2@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender2@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi, Hi,")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            List<String> second = List.of("mail <kou+sender2@example.com>", "rcpt <r@example.com>", "data",
                    "header From=kou+sender2@example.com", "eoh", "body Hi, Hi,", "eom", "quit");
            assertEquals(second, a.eventsFrom("mail <kou+sender2@example.com>"));
            assertEquals(second, b.eventsFrom("mail <kou+sender2@example.com>"));
        }
    }

    @Test
    void headerVerdictOfOneMessageDoesNotLeakIntoTheNext() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.HEADER, command ->
                    ((Command.Header) command).value().contains("spam") ? Reply.Reject.INSTANCE
                            : Reply.Continue.INSTANCE);
            harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.Header("Subject", "spam")));
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<s@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("Subject", "ham")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
        }
    }

    @Test
    void quitEndsTheSessionForEveryChild() throws Exception {
        // quit.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertTrue(mta.awaitClose());
            assertEquals(message("eom", "quit"), a.events());
            assertEquals(message("eom", "quit"), b.events());
        }
    }

    @Test
    void quitNewConnectionStartsTheNextSmtpSessionWithFreshChildren() throws Exception {
        // Deviation: K is supported (upstream did not decode it).
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            mta.send(Command.QuitNewConnection.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("second.example.net",
                    milter.core.protocol.SocketFamily.INET, 2930, "192.0.2.2")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("second")));
            mta.send(Command.Quit.INSTANCE);
            a.awaitEvent("quit", 2);
            b.awaitEvent("quit", 2);
            assertTrue(mta.awaitClose());
            harness.awaitSessionEnds(2);
            List<String> expected = List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian", "quit",
                    "negotiate 6", "connect second.example.net 192.0.2.2", "helo second", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
            assertEquals(2, a.sessionIds().size());
            List<LogCapture.Line> ends = harness.log().matchingRegex(
                    "\\[session\\]\\[end\\]\\[helo\\]\\[pass\\]\\[[0-9.e-]+\\]\\(\\d+\\)");
            assertEquals(2, ends.size(), harness.log().dump());
        }
    }

    @Test
    void unknownCommandMayStartTheSessionAfterQuitNewConnection() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.start();
            FakeMta mta = Flow.connected(harness);
            mta.send(Command.QuitNewConnection.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Unknown("NOOP")));
            quit(mta, a);
            assertTrue(a.events().contains("unknown NOOP"), a.events().toString());
        }
    }

    @Test
    void mtaDisconnectingMidMessageAbortsAndQuitsTheChildren() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.close();
            a.closed().join();
            b.closed().join();
            assertEquals(message("abort", "quit"), a.events());
            assertEquals(events(List.of("abort", "quit")), b.events());
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[body\\]\\[pass\\]\\[[0-9.e-]+\\]\\(\\d+\\)");
        }
    }

    @Test
    void mtaDisconnectingWhileAChildWorksOnEndOfMessageStopsEverything() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").hangAt(CommandType.END_OF_MESSAGE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(new Command.EndOfMessage());
            a.awaitEvent("eom");
            mta.close();
            a.closed().join();
            b.closed().join();
            harness.awaitSessionEnds(1);
            // B never got the message: the session ended while A still worked on it.
            assertEquals(events(List.of("abort", "quit")), b.events());
        }
    }
}
