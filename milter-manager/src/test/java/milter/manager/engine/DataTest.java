package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** DATA: the last parallel stage (behaviour cases 23-25), its stopper (Q2) and DATA emulation. */
class DataTest {

    private static List<String> envelopeThen(String... after) {
        List<String> events = new ArrayList<>(Flow.ENVELOPE_EVENTS.subList(0, 5));
        events.addAll(List.of(after));
        return events;
    }

    @Test
    void bothChildrenGetData() throws Exception {
        // data.txt, children/data.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            mta.send(Flow.macros(CommandType.DATA, Map.of("i", "4AB12")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(envelopeThen("data {i=4AB12}", "quit"), a.events());
            assertEquals(envelopeThen("data {i=4AB12}", "quit"), b.events());
        }
    }

    @Test
    void childrenClosingAtDataWithoutReplyLeaveTheirFallback() throws Exception {
        // data-close-without-reply.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").closeAt(CommandType.DATA);
            ScriptedChild b = harness.child("b").closeAt(CommandType.DATA);
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(envelopeThen("data"), a.events());
            assertEquals(envelopeThen("data"), b.events());
        }
    }

    @Test
    void replyCodeAtDataIsPassedOnAndTheOtherChildIsAborted() throws Exception {
        // data-reply-code-reject.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.DATA,
                    new Reply.ReplyCode("554 5.5.4 Spam: pgrishin"));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            assertEquals(new Reply.ReplyCode("554 5.5.4 Spam: pgrishin"), mta.call(Command.Data.INSTANCE));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(envelopeThen("data", "quit"), a.events());
            assertEquals(envelopeThen("data", "abort", "quit"), b.events());
        }
    }

    @Test
    void childWithoutDataStepGetsTheMessageFromHeaders() throws Exception {
        // no-data-second-client.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b").protocol(ProtocolFlags.NO_DATA);
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(envelopeThen("data", "header From=kou+sender@example.com", "eoh", "body Hi,", "eom", "quit"),
                    a.events());
            assertEquals(envelopeThen("header From=kou+sender@example.com", "eoh", "body Hi,", "eom", "quit"),
                    b.events());
        }
    }

    @Test
    void dataStopperTakesOnlyThatChildOutOfTheMessage() throws Exception {
        // Quirk Q2 fixed: upstream answered DATA at once and bypassed every milter.
        TestCondition restrict = new TestCondition("Restrict Accounts").stopper(CommandType.DATA, (c, x) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(restrict);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("Restrict Accounts")));
            ScriptedChild b = harness.child("b").reply(CommandType.END_OF_MESSAGE, Reply.Reject.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Reject.INSTANCE), mta.endOfMessage());
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(envelopeThen("abort", "quit"), a.events());
            assertEquals(envelopeThen("data", "header From=kou+sender@example.com", "eoh", "body Hi,", "eom",
                    "quit"), b.events());
        }
    }

    @Test
    void everyChildStoppedAtDataMeansAccept() throws Exception {
        TestCondition restrict = new TestCondition("Restrict Accounts").stopper(CommandType.DATA, (c, x) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(restrict);
            harness.child("a", egg -> egg.applicableConditions(List.of("Restrict Accounts")));
            harness.child("b", egg -> egg.applicableConditions(List.of("Restrict Accounts")));
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Command.Data.INSTANCE));
        }
    }

    @Test
    void headerWithoutDataMakesTheManagerSendDataFirst() throws Exception {
        // DATA emulation (§2.10): a v6 MTA that skipped DATA.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(envelopeThen("data", "header From=kou+sender@example.com", "eoh", "eom", "quit"), a.events());
            assertEquals(envelopeThen("data", "header From=kou+sender@example.com", "eoh", "eom", "quit"), b.events());
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[data-command-emulation\\]\\[header\\] "
                    + "<From>=<kou\\+sender@example\\.com>");
        }
    }

    @Test
    void emulatedDataThatIsRefusedAnswersTheTriggeringCommand() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.DATA, Reply.TemporaryFailure.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterRecipient(harness);
            assertEquals(Reply.TemporaryFailure.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            assertEquals(envelopeThen("data", "quit"), a.events());
        }
    }

    @Test
    void childRefusingEveryRecipientIsAbortedAtData() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.ENVELOPE_RECIPIENT, Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeRecipient("<x@example.com>")));
            // The MTA has another recipient of its own (B is fine with it) and goes on.
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian",
                    "mail <kou+sender@example.com>", "rcpt <x@example.com>", "abort", "quit"), a.events());
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian",
                    "mail <kou+sender@example.com>", "rcpt <x@example.com>", "data", "quit"), b.events());
        }
    }
}
