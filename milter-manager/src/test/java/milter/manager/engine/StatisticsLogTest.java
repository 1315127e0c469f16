package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import milter.core.log.LogLevel;
import milter.core.log.LogLevels;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * The statistics lines of §9.3 with their exact text, and the leader / children tags of the log list that the
 * other engine tests do not already pin down. ELAPSED varies and is matched as C's {@code %g}.
 */
class StatisticsLogTest {

    /** C {@code %g}: digits, an optional fraction, an optional exponent. */
    private static final String G = "(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:e[+-][0-9]{2,})?";

    private static void quit(FakeMta mta, ScriptedChild... children) throws Exception {
        mta.send(Command.Quit.INSTANCE);
        for (ScriptedChild child : children) {
            child.closed().join();
        }
    }

    private static long tagOf(LogCapture.Line line) {
        String text = line.text();
        return Long.parseLong(text.substring(text.indexOf("](") + 2, text.indexOf(')', text.indexOf("]("))));
    }

    @Test
    void cleanSessionWritesOneLinePerChildAndOneForTheSession() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").modify(new Reply.AddHeader("X-Virus-Status", "Clean"),
                    new Reply.Quarantine("held"));
            ScriptedChild b = harness.child("b").modify(new Reply.ChangeHeader(1, "From", "other@example.com"));
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.endOfMessage();
            quit(mta, a, b);
            long session = harness.sessionId(0);
            LogCapture log = harness.log();
            LogCapture.Line end = harness.awaitSessionEnds(1).get(0);
            assertTrue(end.text().matches("\\[session\\]\\[end\\]\\[end-of-message\\]\\[pass\\]\\[" + G + "\\]\\("
                    + session + "\\)"), end.text());
            assertEquals(LogLevel.STATISTICS, end.level());
            LogCapture.Line endA = log.awaitRegex("\\[milter\\]\\[end\\]\\[end-of-message\\]\\[pass\\]\\[" + G
                    + "\\]\\(\\d+\\): a");
            LogCapture.Line endB = log.awaitRegex("\\[milter\\]\\[end\\]\\[end-of-message\\]\\[pass\\]\\[" + G
                    + "\\]\\(\\d+\\): b");
            assertEquals(LogLevel.STATISTICS, endA.level());
            // Children are tagged after their session, in egg order.
            assertTrue(session < tagOf(endA) && tagOf(endA) < tagOf(endB), endA + " " + endB);
            LogCapture.Line childHeader = log.awaitRegex("\\[milter\\]\\[header\\]\\[add\\]\\(" + tagOf(endA)
                    + "\\): <X-Virus-Status>=<Clean>: a");
            assertEquals(LogLevel.STATISTICS, childHeader.level());
            log.awaitRegex("\\[milter\\]\\[header\\]\\[add\\]\\(" + tagOf(endB) + "\\): <From>=<other@example.com>: b");
            LogCapture.Line sessionHeader = log.awaitRegex("\\[session\\]\\[header\\]\\[add\\]\\(" + session
                    + "\\): <X-Virus-Status>=<Clean>");
            assertEquals(LogLevel.STATISTICS, sessionHeader.level());
            log.awaitRegex("\\[session\\]\\[header\\]\\[add\\]\\(" + session + "\\): <From>=<other@example.com>");
            LogCapture.Line quarantine = log.awaitRegex("\\[reply\\]\\[end-of-message\\]\\[quarantine\\]\\("
                    + session + "\\)");
            assertEquals(LogLevel.STATISTICS, quarantine.level());
        }
    }

    @Test
    void sessionEndNamesTheLastStageAndTheLastStatusRepliedToTheMta() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a")
                    .reply(CommandType.CONNECT, command -> ((Command.Connect) command).host().equals("accept.example")
                            ? Reply.Accept.INSTANCE : Reply.Continue.INSTANCE)
                    .reply(CommandType.ENVELOPE_FROM, command -> ((Command.EnvelopeFrom) command).address()
                            .contains("reject") ? Reply.Reject.INSTANCE : Reply.Continue.INSTANCE)
                    .replyRecipient("<later@example.com>", new Reply.ReplyCode("451 4.7.1 later"))
                    .reply(CommandType.HEADER, Reply.TemporaryFailure.INSTANCE)
                    .replyEndOfMessageContaining("discard", Reply.Discard.INSTANCE);
            harness.start();
            // negotiate only, then the MTA goes away
            FakeMta only = harness.mta();
            only.negotiate(Flow.OFFER);
            only.close();
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[negotiate\\]\\[pass\\]\\[" + G + "\\]\\(\\d+\\)");
            // accept at connect
            FakeMta accepted = harness.mta();
            accepted.negotiate(Flow.OFFER);
            assertEquals(Reply.Accept.INSTANCE, accepted.call(new Command.Connect("accept.example",
                    milter.core.protocol.SocketFamily.INET, 25, "192.0.2.1")));
            accepted.send(Command.Quit.INSTANCE);
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[connect\\]\\[accept\\]\\[" + G + "\\]\\(\\d+\\)");
            // reject at MAIL
            FakeMta rejected = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, rejected.call(new Command.EnvelopeFrom("<reject@example.com>")));
            rejected.send(Command.Quit.INSTANCE);
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[envelope-from\\]\\[reject\\]\\[" + G + "\\]\\(\\d+\\)");
            harness.log().awaitRegex("\\[milter\\]\\[end\\]\\[envelope-from\\]\\[reject\\]\\[" + G + "\\]\\(\\d+\\): a");
            // temporary failure by reply code at RCPT
            FakeMta later = Flow.afterMail(harness);
            assertEquals(new Reply.ReplyCode("451 4.7.1 later"),
                    later.call(new Command.EnvelopeRecipient("<later@example.com>")));
            later.send(Command.Quit.INSTANCE);
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[envelope-recipient\\]\\[temporary-failure\\]\\[" + G
                    + "\\]\\(\\d+\\)");
            // temporary failure at a header
            FakeMta header = Flow.afterData(harness);
            assertEquals(Reply.TemporaryFailure.INSTANCE, header.call(new Command.Header("From", "x@example.com")));
            header.send(Command.Quit.INSTANCE);
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[header\\]\\[temporary-failure\\]\\[" + G
                    + "\\]\\(\\d+\\)");
            harness.log().awaitRegex("\\[milter\\]\\[end\\]\\[header\\]\\[temporary-failure\\]\\[" + G
                    + "\\]\\(\\d+\\): a");
            harness.awaitSessionEnds(5);
        }
    }

    @Test
    void childEndNamesItsLastStageAndStatus() throws Exception {
        TestCondition stopFrom = new TestCondition("stop-from").stopper(CommandType.ENVELOPE_FROM, (c, f) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopFrom);
            ScriptedChild passing = harness.child("passing");
            ScriptedChild stopped = harness.child("stopped", egg -> egg.applicableConditions(List.of("stop-from")));
            ScriptedChild refused = harness.child("refused")
                    .replyRecipient("<no@example.com>", Reply.TemporaryFailure.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.TemporaryFailure.INSTANCE, mta.call(new Command.EnvelopeRecipient("<no@example.com>")));
            mta.send(Command.Abort.INSTANCE);
            quit(mta, passing, stopped, refused);
            LogCapture log = harness.log();
            log.awaitRegex("\\[milter\\]\\[end\\]\\[envelope-recipient\\]\\[abort\\]\\[" + G + "\\]\\(\\d+\\): passing");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[envelope-from\\]\\[stop\\]\\[" + G + "\\]\\(\\d+\\): stopped");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[envelope-recipient\\]\\[temporary-failure\\]\\[" + G
                    + "\\]\\(\\d+\\): refused");
            log.awaitRegex("\\[session\\]\\[end\\]\\[envelope-recipient\\]\\[temporary-failure\\]\\[" + G
                    + "\\]\\(\\d+\\)");
        }
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild discarding = harness.child("discarding").reply(CommandType.END_OF_MESSAGE,
                    Reply.Discard.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Discard.INSTANCE), mta.endOfMessage());
            quit(mta, discarding);
            harness.log().awaitRegex("\\[milter\\]\\[end\\]\\[end-of-message\\]\\[discard\\]\\[" + G
                    + "\\]\\(\\d+\\): discarding");
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[end-of-message\\]\\[discard\\]\\[" + G + "\\]\\(\\d+\\)");
        }
    }

    @Test
    void nothingIsBuiltWhenStatisticsAreOff() throws Exception {
        try (ManagerHarness harness = new ManagerHarness(LogLevels.DEFAULT & ~LogLevel.STATISTICS.bit())) {
            ScriptedChild a = harness.child("a").modify(new Reply.AddHeader("X-A", "1"));
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(new Reply.InsertHeader(1, "X-A", "1"), Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a);
            mta.awaitClose();
            a.closed().join();
            assertEquals(List.of(), harness.log().matching("[milter]["));
            assertEquals(List.of(), harness.log().matching("[session]["));
        }
    }

    @Test
    void childAnsweringTheNegotiationWithActionsNotOfferedIsDropped() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild greedy = harness.child("greedy").negotiateReply(new Option(6, ActionFlags.ALL, 0));
            ScriptedChild fine = harness.child("fine");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(new Option(6, ActionFlags.ADD_HEADERS, 0));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            greedy.closed().join();
            quit(mta, fine);
            assertEquals(List.of("negotiate 6"), greedy.events());
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[negotiate\\]\\[accept\\] \\[\\d+\\] "
                    + "requested actions 0x1ff conflict with offered actions 0x1: greedy");
        }
    }

    @Test
    void debugLinesTraceEachChild() throws Exception {
        TestCondition stopHelo = new TestCondition("stop-helo").stopper(CommandType.HELO, (c, h) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopHelo);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-helo")));
            ScriptedChild b = harness.child("b").modify(Reply.Progress.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.endOfMessage();
            quit(mta, a, b);
            LogCapture log = harness.log();
            assertEquals(LogLevel.DEBUG, log.awaitRegex("\\[\\d+\\] \\[manager\\]\\[session\\]\\[start\\]").level());
            assertEquals(LogLevel.DEBUG, log.awaitRegex("\\[\\d+\\] \\[children\\]\\[milter\\]\\[start\\] \\[\\d+\\] a")
                    .level());
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[negotiate\\]\\[done\\] \\[\\d+\\] b");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[stop\\]\\[helo\\] \\[\\d+\\] a");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[progress\\] \\[\\d+\\] b");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[helo\\]\\[stop\\]\\[" + G + "\\]\\(\\d+\\): a");
        }
    }
}
