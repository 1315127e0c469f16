package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * MAIL and RCPT: merging the parallel answers, who stays in the message, reply codes (behaviour cases 11-22,
 * 46-48). After a refusing or accepting verdict at MAIL the MTA leaves the transaction (the fixtures' "next RCPT
 * finds no processing milter" is what our client's state machine answers itself), so these tests go on the way
 * MTAs do: abort and a new MAIL.
 */
class EnvelopeTest {

    private static final List<String> BEFORE_MAIL = List.of("negotiate 6", "connect mx.local.net 192.168.1.29",
            "helo delian");

    private static List<String> seen(String... after) {
        List<String> events = new java.util.ArrayList<>(BEFORE_MAIL);
        events.addAll(List.of(after));
        return events;
    }

    private static void quit(FakeMta mta, ScriptedChild... children) throws Exception {
        mta.send(Command.Quit.INSTANCE);
        for (ScriptedChild child : children) {
            child.closed().join();
        }
    }

    @Test
    void rejectAtMailRefusesTheMessageAndTheNextMessageGoesToBoth() throws Exception {
        // envelope-from-reject.txt, then envelope-from-again / -reject-again: a new MAIL starts over.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.ENVELOPE_FROM, command ->
                    ((Command.EnvelopeFrom) command).address().contains("reject") ? Reply.Reject.INSTANCE
                            : Reply.Continue.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<reject@example.com>")));
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender2@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            quit(mta, a, b);
            // B was inside the refused message: it is told so with abort.
            assertEquals(seen("mail <reject@example.com>", "mail <kou+sender2@example.com>", "rcpt <r@example.com>",
                    "quit"), a.events());
            assertEquals(seen("mail <reject@example.com>", "abort", "mail <kou+sender2@example.com>",
                    "rcpt <r@example.com>", "quit"), b.events());
        }
    }

    @Test
    void rejectOutweighsAcceptAndDiscardOutweighsReject() throws Exception {
        // envelope-from-reject-and-accept.txt, envelope-from-reject-and-discard.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.ENVELOPE_FROM, Reply.Reject.INSTANCE);
            harness.child("b").reply(CommandType.ENVELOPE_FROM, command ->
                    ((Command.EnvelopeFrom) command).address().contains("discard") ? Reply.Discard.INSTANCE
                            : Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<reject+accept@example.com>")));
            assertEquals(Reply.Discard.INSTANCE, mta.call(new Command.EnvelopeFrom("<reject+discard@example.com>")));
        }
    }

    @Test
    void discardAtMailDiscardsTheMessage() throws Exception {
        // envelope-from-discard.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.ENVELOPE_FROM, Reply.Discard.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Discard.INSTANCE, mta.call(new Command.EnvelopeFrom("<discard@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <discard@example.com>", "quit"), a.events());
            assertEquals(seen("mail <discard@example.com>", "abort", "quit"), b.events());
        }
    }

    @Test
    void childAcceptingAtMailLeavesTheMessageOnly() throws Exception {
        // envelope-from-accept.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.ENVELOPE_FROM, command ->
                    ((Command.EnvelopeFrom) command).address().contains("accept") ? Reply.Accept.INSTANCE
                            : Reply.Continue.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<accept@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<recipient@example.com>")));
            mta.send(Command.Abort.INSTANCE);
            // Back for the next message.
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<next@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <accept@example.com>", "mail <next@example.com>", "quit"), a.events());
            assertEquals(seen("mail <accept@example.com>", "rcpt <recipient@example.com>", "abort",
                    "mail <next@example.com>", "quit"), b.events());
        }
    }

    @Test
    void everyChildAcceptingAtMailAcceptsTheMessage() throws Exception {
        // envelope-from-accept-all.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.ENVELOPE_FROM, Reply.Accept.INSTANCE);
            harness.child("b").reply(CommandType.ENVELOPE_FROM, Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Accept.INSTANCE, mta.call(new Command.EnvelopeFrom("<accept@example.com>")));
        }
    }

    @Test
    void evaluationChildDiscardingAtMailIsCountedAsAcceptAndLeavesTheMessage() throws Exception {
        // envelope-from-discard-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a", egg -> egg.evaluationMode(true))
                    .reply(CommandType.ENVELOPE_FROM, Reply.Discard.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<discard@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<recipient@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <discard@example.com>", "quit"), a.events());
            assertEquals(seen("mail <discard@example.com>", "rcpt <recipient@example.com>", "quit"), b.events());
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[evaluation\\]\\[discard\\]\\[envelope-from\\] "
                    + "\\[\\d+\\] a");
        }
    }

    @Test
    void mailStopperKeepsTheChildOutOfThatMessageOnly() throws Exception {
        // envelope-from-stop.txt
        TestCondition stopFrom = new TestCondition("stop-from").stopper(CommandType.ENVELOPE_FROM,
                (context, from) -> from.equals("<stop@example.com>"));
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopFrom);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-from")))
                    .reply(CommandType.ENVELOPE_FROM, Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<stop@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<sender@example.com>")));
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<other@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <other@example.com>", "quit"), a.events());
            assertEquals(seen("mail <stop@example.com>", "rcpt <sender@example.com>", "abort",
                    "mail <other@example.com>", "abort", "quit"), b.events());
        }
    }

    @Test
    void everyChildStoppedAtMailMeansAcceptAtOnce() throws Exception {
        // Deviation ("Every child stopped at MAIL"): accept at MAIL instead of an error at the first RCPT.
        TestCondition stopAll = new TestCondition("stop-all").stopper(CommandType.ENVELOPE_FROM, (c, from) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopAll);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-all")));
            ScriptedChild b = harness.child("b", egg -> egg.applicableConditions(List.of("stop-all")));
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Accept.INSTANCE, mta.call(new Command.EnvelopeFrom("<x@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("quit"), a.events());
            assertEquals(seen("quit"), b.events());
            assertFalse(harness.log().has("[children][error][message-processing]"));
        }
    }

    @Test
    void mailMacrosAndEsmtpArgumentsReachBothChildren() throws Exception {
        // envelope-from-with-macro.txt; ESMTP arguments are forwarded (our deviation: upstream dropped them).
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            mta.send(Flow.macros(CommandType.ENVELOPE_FROM, Map.of("{auth_authen}", "user", "{auth_type}", "PLAIN",
                    "{auth_author}", "user@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<sender@example.com>",
                    List.of("SIZE=1024", "BODY=8BITMIME"))));
            mta.send(Flow.macros(CommandType.ENVELOPE_RECIPIENT, Map.of("{rcpt_mailer}", "local")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>",
                    List.of("NOTIFY=NEVER"))));
            quit(mta, a, b);
            List<String> expected = seen("mail <sender@example.com> SIZE=1024 BODY=8BITMIME {auth_authen=user, "
                    + "auth_author=user@example.com, auth_type=PLAIN}", "rcpt <r@example.com> NOTIFY=NEVER "
                    + "{rcpt_mailer=local}", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void recipientRejectedByOneChildIsRefusedButTheNextGoesToBoth() throws Exception {
        // envelope-recipient-reject.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyRecipient("<reject@example.com>", Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeRecipient("<reject@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<ok@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            quit(mta, a, b);
            List<String> expected = seen("mail <kou+sender@example.com>", "rcpt <reject@example.com>",
                    "rcpt <ok@example.com>", "data", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void temporaryFailuresOfOneOrBothChildrenRefuseOnlyThatRecipient() throws Exception {
        // envelope-recipient-temporary-failure.txt, envelope-recipient-temporary-failure-all.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a")
                    .replyRecipient("<temporary-failure@example.com>", Reply.TemporaryFailure.INSTANCE)
                    .replyRecipient("<both@example.com>", Reply.TemporaryFailure.INSTANCE);
            ScriptedChild b = harness.child("b")
                    .replyRecipient("<both@example.com>", Reply.TemporaryFailure.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.TemporaryFailure.INSTANCE,
                    mta.call(new Command.EnvelopeRecipient("<temporary-failure@example.com>")));
            assertEquals(Reply.TemporaryFailure.INSTANCE, mta.call(new Command.EnvelopeRecipient("<both@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<ok@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            quit(mta, a, b);
            List<String> expected = seen("mail <kou+sender@example.com>", "rcpt <temporary-failure@example.com>",
                    "rcpt <both@example.com>", "rcpt <ok@example.com>", "data", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void rejectAndDiscardOfTheSameRecipientDiscardTheMessage() throws Exception {
        // envelope-recipient-reject-and-discard-simultaneously.txt, envelope-recipient-discard.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyRecipient("<reject+discard@example.com>",
                    Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b").replyRecipient("<reject+discard@example.com>",
                    Reply.Discard.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Discard.INSTANCE,
                    mta.call(new Command.EnvelopeRecipient("<reject+discard@example.com>")));
            quit(mta, a, b);
            // A stayed in the message after its reject, so it is aborted with the discarded message.
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <reject+discard@example.com>", "abort", "quit"),
                    a.events());
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <reject+discard@example.com>", "quit"),
                    b.events());
        }
    }

    @Test
    void rejectContinueDiscardAcrossRecipients() throws Exception {
        // envelope-recipient--reject--temp-fail--discard.txt (its "temporaray" typo lets r2 pass).
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a")
                    .replyRecipient("<reject@example.com>", Reply.Reject.INSTANCE)
                    .replyRecipient("<temporaray-failure@example.com>", Reply.TemporaryFailure.INSTANCE)
                    .replyRecipient("<discard@example.com>", Reply.Discard.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeRecipient("<reject@example.com>")));
            assertEquals(Reply.Continue.INSTANCE,
                    mta.call(new Command.EnvelopeRecipient("<temporary-failure@example.com>")));
            assertEquals(Reply.Discard.INSTANCE, mta.call(new Command.EnvelopeRecipient("<discard@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <reject@example.com>",
                    "rcpt <temporary-failure@example.com>", "rcpt <discard@example.com>", "quit"), a.events());
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <reject@example.com>",
                    "rcpt <temporary-failure@example.com>", "rcpt <discard@example.com>", "abort", "quit"),
                    b.events());
        }
    }

    @Test
    void childAcceptingARecipientLeavesTheMessageAndAllAcceptingAcceptsIt() throws Exception {
        // envelope-recipient-accept.txt, envelope-recipient-accept-all.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyRecipient("<accept@example.com>", Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b").replyRecipient("<all@example.com>", Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<accept@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<ok@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            mta.send(Command.Abort.INSTANCE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<second@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<accept@example.com>")));
            assertEquals(Reply.Accept.INSTANCE, mta.call(new Command.EnvelopeRecipient("<all@example.com>")));
            quit(mta, a, b);
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <accept@example.com>",
                    "mail <second@example.com>", "rcpt <accept@example.com>", "quit"), a.events());
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <accept@example.com>", "rcpt <ok@example.com>",
                    "data", "abort", "mail <second@example.com>", "rcpt <accept@example.com>",
                    "rcpt <all@example.com>", "quit"), b.events());
        }
    }

    @Test
    void recipientStopperSkipsOnlyThatRecipient() throws Exception {
        // envelope-recipient-stop.txt
        TestCondition stopRecipient = new TestCondition("stop-recipient").stopper(CommandType.ENVELOPE_RECIPIENT,
                (context, recipient) -> recipient.equals("<stop@example.com>"));
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopRecipient);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-recipient")))
                    .replyRecipient("<stop@example.com>", Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<stop@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<ok@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            quit(mta, a, b);
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <ok@example.com>", "data", "quit"), a.events());
            assertEquals(seen("mail <kou+sender@example.com>", "rcpt <stop@example.com>", "rcpt <ok@example.com>",
                    "data", "quit"), b.events());
        }
    }

    @Test
    void evaluationChildRefusingEveryRecipientIsAbortedAtDataAndTheOtherGetsTheMessage() throws Exception {
        // envelope-recipient-{reject,temporary-failure,reply-code-4xx,reply-code-5xx}-evaluation.txt
        List<Reply> refusals = List.of(Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE,
                new Reply.ReplyCode("451 4.7.1 Greylisting in action, please come back later"),
                new Reply.ReplyCode("554 5.7.1 1% 2%% 3%%%"));
        for (Reply refusal : refusals) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a", egg -> egg.evaluationMode(true))
                        .reply(CommandType.ENVELOPE_RECIPIENT, refusal);
                ScriptedChild b = harness.child("b");
                harness.start();
                FakeMta mta = Flow.afterMail(harness);
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi,")));
                assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
                quit(mta, a, b);
                assertEquals(seen("mail <kou+sender@example.com>", "rcpt <r@example.com>", "rcpt <r@example.com>",
                        "abort", "quit"), a.events(), refusal.toString());
                assertEquals(seen("mail <kou+sender@example.com>", "rcpt <r@example.com>", "rcpt <r@example.com>",
                        "data", "header From=kou+sender@example.com", "eoh", "body Hi,", "eom", "quit"), b.events());
            }
        }
    }

    @Test
    void replyCodesOfEvaluationChildrenAreNeverUsedForALaterVerdict() throws Exception {
        // Quirk Q5 fixed: A's (evaluation) 4xx code must not dress up B's plain temporary failure.
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a", egg -> egg.evaluationMode(true)).reply(CommandType.ENVELOPE_RECIPIENT,
                    new Reply.ReplyCode("451 4.7.1 Greylisting in action"));
            harness.child("b").replyRecipient("<later@example.com>", Reply.TemporaryFailure.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<first@example.com>")));
            assertEquals(Reply.TemporaryFailure.INSTANCE,
                    mta.call(new Command.EnvelopeRecipient("<later@example.com>")));
        }
    }

    @Test
    void replyCodeOfARefusingChildIsPassedOn() throws Exception {
        // reply-code.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.ENVELOPE_FROM, new Reply.ReplyCode("554 5.7.1 1%% 2%% 3%%"));
            harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(new Reply.ReplyCode("554 5.7.1 1%% 2%% 3%%"),
                    mta.call(new Command.EnvelopeFrom("<reject@example.com>")));
        }
    }

    @Test
    void invalidReplyCodeBecomesAPlainRejectWithAnError() throws Exception {
        // reply-code-invalid.txt; quirk Q4 fixed: the MTA gets reject instead of nothing.
        try (ManagerHarness harness = new ManagerHarness()) {
            // Our client library refuses to send such a code, so the child writes the packet itself.
            harness.child("a").rawAt(CommandType.ENVELOPE_FROM, ScriptedChild.packet('y', "554 3.7.1 1%% 2%% 3%%\0"));
            harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<reject@example.com>")));
            LogCapture.Line line = harness.log().awaitRegex("\\[\\d+\\] \\[leader\\]\\[error\\]\\[reply-code\\] "
                    + "class of extended status code should be '2', '4' or '5': <3\\.7\\.1>: <3>");
            assertEquals(milter.core.log.LogLevel.ERROR, line.level());
        }
    }

    @Test
    void replyCodeOfTheWrongClassForTheVerdictIsNotUsed() throws Exception {
        // A's 4xx code cannot dress up B's reject, which outranks A's temporary failure.
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.ENVELOPE_FROM, new Reply.ReplyCode("451 4.7.1 try later"));
            harness.child("b").reply(CommandType.ENVELOPE_FROM, Reply.Reject.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<x@example.com>")));
        }
    }

    @Test
    void abortAfterMailReachesBothChildrenWithoutReply() throws Exception {
        // abort-on-envelope-from.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            mta.send(Command.Abort.INSTANCE);
            quit(mta, a, b);
            assertTrue(mta.awaitClose());
            assertEquals(List.of(), mta.unread());
            List<String> expected = seen("mail <kou+sender@example.com>", "abort", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
            harness.log().awaitRegex("\\[session\\]\\[end\\]\\[envelope-from\\]\\[abort\\]\\[[0-9.e-]+\\]\\(\\d+\\)");
        }
    }

    @Test
    void recipientWithNoChildLeftInTheMessageGetsTheManagerFallback() throws Exception {
        // The "None of milters are processing message." case: the only child went away after MAIL.
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").behave(CommandType.ENVELOPE_FROM, (context, command) -> {
                context.eventLoop().execute(context::close);
                return java.util.concurrent.CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
            });
            harness.settings(config -> config.set(milter.manager.config.Setting.MANAGER_FALLBACK_STATUS,
                    "temporary-failure"));
            harness.start();
            FakeMta mta = Flow.afterMail(harness);
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[end\\]\\[envelope-from\\] \\[\\d+\\] a");
            assertEquals(Reply.TemporaryFailure.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[message-processing\\] "
                    + "None of milters are processing message\\.");
            log.awaitRegex("\\[\\d+\\] \\[leader\\]\\[error\\] None of milters are processing message\\.");
            // Quirk Q6 fixed: one reply only.
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            assertEquals(List.of(), mta.unread());
        }
    }
}
