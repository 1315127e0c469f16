package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.manager.config.Egg;
import milter.testing.libmilter.PythonMilter;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Behaviour cases with real libmilter children (Debian's python3-milter running {@code scripted_milter.py}):
 * every stage and every modification kind once more, against the C library milters are built on.
 */
class LibmilterEngineTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @BeforeEach
    void needPythonMilter() {
        PythonMilter.assumeAvailable();
    }

    /** Two python milters a and b behind a manager. */
    private static final class Setup implements AutoCloseable {
        final PythonMilter a;
        final PythonMilter b;
        final ManagerHarness harness = new ManagerHarness();

        Setup(PythonMilter.Builder a, PythonMilter.Builder b) {
            this(a, egg -> egg, b, egg -> egg);
        }

        Setup(PythonMilter.Builder a, UnaryOperator<Egg.Builder> eggA, PythonMilter.Builder b,
                UnaryOperator<Egg.Builder> eggB) {
            PythonMilter started = a.name("a").start();
            try {
                this.b = b.name("b").start();
            } catch (RuntimeException e) {
                started.close();
                throw e;
            }
            this.a = started;
            harness.external("a", this.a.spec(), eggA);
            harness.external("b", this.b.spec(), eggB);
        }

        Setup start() {
            harness.start();
            return this;
        }

        /** Quits the MTA session and waits until both milters saw the connection close. */
        void quit(FakeMta mta) throws Exception {
            mta.send(Command.Quit.INSTANCE);
            a.awaitLine("EVENT close", WAIT);
            b.awaitLine("EVENT close", WAIT);
        }

        @Override
        public void close() throws java.io.IOException {
            try {
                harness.close();
            } finally {
                a.close();
                b.close();
            }
        }
    }

    /** The event names (first word) a milter saw, for order assertions. */
    private static List<String> names(PythonMilter milter) {
        List<String> names = new ArrayList<>();
        for (String event : milter.events()) {
            names.add(event.split(" ", 2)[0]);
        }
        return names;
    }

    /** The events of a milter, from the first one starting with {@code prefix}. */
    private static List<String> from(PythonMilter milter, String prefix) {
        List<String> events = milter.events();
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).startsWith(prefix)) {
                return events.subList(i, events.size());
            }
        }
        return List.of();
    }

    @Test
    void negotiationPassesTheOfferAndMergesWhatTheMiltersAsk() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().protocol("SKIP"),
                PythonMilter.builder().protocol("NOBODY|NR_HDR")).start()) {
            FakeMta mta = setup.harness.mta();
            Option reply = mta.negotiate(Flow.FULL_OFFER);
            assertEquals(ProtocolFlags.SKIP, reply.protocol());
            String offered = String.format("negotiate actions=0x%x protocol=0x%x", Flow.FULL_OFFER.actions(),
                    Flow.FULL_OFFER.protocol());
            setup.a.awaitLine("EVENT " + offered, WAIT);
            setup.b.awaitLine("EVENT " + offered, WAIT);
            setup.quit(mta);
        }
    }

    @Test
    void connectHeloAndTheirMacrosReachBothMilters() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().macros("connect", "j", "{daemon_name}"),
                PythonMilter.builder().macros("helo", "{tls_version}")).start()) {
            FakeMta mta = setup.harness.mta();
            mta.negotiate(Flow.OFFER);
            mta.send(Flow.macros(CommandType.CONNECT, Map.of("{daemon_name}", "Postfix", "j", "postfix")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            mta.send(Flow.macros(CommandType.HELO, Map.of("{tls_version}", "TLSv1.3")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
            setup.quit(mta);
            assertTrue(setup.a.output().containsAll(List.of("MACRO connect j=postfix",
                    "MACRO connect {daemon_name}=Postfix")), setup.a.diagnostics());
            assertTrue(setup.b.output().contains("MACRO helo {tls_version}=TLSv1.3"), setup.b.diagnostics());
            for (PythonMilter milter : List.of(setup.a, setup.b)) {
                assertEquals(List.of("negotiate", "connect", "helo", "close"), names(milter));
                assertTrue(milter.events().get(1).startsWith("connect mx.local.net"), milter.diagnostics());
                assertEquals("helo delian", milter.events().get(2));
            }
        }
    }

    @Test
    void rejectAtMailAbortsTheOtherMilterAndTheNextMessageGoesToBoth() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().reply("envfrom#1", "reject"),
                PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterHelo(setup.harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<spam@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<ham@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            setup.quit(mta);
            // (The last abort is libmilter's own: quit inside a message calls the abort callback.)
            assertEquals(List.of("envfrom <spam@example.com>", "envfrom <ham@example.com>", "envrcpt <r@example.com>",
                    "abort", "close"), from(setup.a, "envfrom"));
            assertEquals(List.of("envfrom <spam@example.com>", "abort", "envfrom <ham@example.com>",
                    "envrcpt <r@example.com>", "abort", "close"), from(setup.b, "envfrom"));
        }
    }

    @Test
    void oneRecipientOfSeveralIsRefusedAndDataGoesToBoth() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder(), PythonMilter.builder().reply("envrcpt#2", "reject"))
                .start()) {
            FakeMta mta = Flow.afterMail(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r1@example.com>")));
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r2@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r3@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            setup.quit(mta);
            // (The abort is libmilter's own: quit inside a message calls the abort callback.)
            List<String> expected = List.of("envrcpt <r1@example.com>", "envrcpt <r2@example.com>",
                    "envrcpt <r3@example.com>", "data", "abort", "close");
            assertEquals(expected, from(setup.a, "envrcpt"));
            assertEquals(expected, from(setup.b, "envrcpt"));
        }
    }

    @Test
    void replyCodeAtDataReachesTheMta() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().reply("data", "reply", "554", "5.5.4", "Spam: pgrishin"),
                PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterRecipient(setup.harness);
            assertEquals(new Reply.ReplyCode("554 5.5.4 Spam: pgrishin"), mta.call(Command.Data.INSTANCE));
            setup.quit(mta);
            assertEquals(List.of("data", "abort", "close"), from(setup.b, "data"));
        }
    }

    @Test
    void headersAndBodyStreamToTheFirstMilterAndAreReplayedToTheSecond() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder(), PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterData(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi,")));
            setup.a.awaitLine("EVENT body 3", WAIT);
            assertTrue(from(setup.b, "header").isEmpty(), setup.b.diagnostics());
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
            List<String> expected = List.of("header From=\"kou+sender@example.com\"", "eoh", "body 3", "eom", "close");
            assertEquals(expected, from(setup.a, "header"));
            assertEquals(expected, from(setup.b, "header"));
        }
    }

    @Test
    void skippedBodyGoesWholeToTheNextMilter() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().protocol("SKIP").reply("body", "skip"),
                PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterData(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Skip")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Continue")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
            assertEquals(List.of("eoh", "body 4", "eom", "close"), from(setup.a, "eoh"));
            assertEquals(List.of("eoh", "body 12", "eom", "close"), from(setup.b, "eoh"));
        }
    }

    @Test
    void rejectAtEndOfMessageKeepsTheMessageFromTheSecondMilter() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().reply("eom", "reply", "554", "5.7.1", "virus found"),
                PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterBody(setup.harness);
            assertEquals(List.of(new Reply.ReplyCode("554 5.7.1 virus found")), mta.endOfMessage());
            setup.quit(mta);
            assertEquals(List.of("data", "abort", "close"), from(setup.b, "data"));
        }
    }

    @Test
    void headerModificationsOfBothMiltersBecomeOneDiff() throws Exception {
        try (Setup setup = new Setup(
                PythonMilter.builder().eom("addheader", "X-Test-Header1", "Test-Header1-Value2")
                        .eom("insheader", "0", "X-First", "first"),
                PythonMilter.builder().eom("chgheader", "X-Test-Header1", "1", "Replaced Value")
                        .eom("chgheader", "Subject", "1", "")).start()) {
            FakeMta mta = Flow.afterData(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-Test-Header1", "Test-Header1-Value1")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("Subject", "hello")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(new Reply.InsertHeader(0, "X-First", "first"),
                    new Reply.ChangeHeader(1, "X-Test-Header1", "Replaced Value"),
                    new Reply.InsertHeader(2, "X-Test-Header1", "Test-Header1-Value1"),
                    new Reply.ChangeHeader(1, "Subject", ""), Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
            // B was brought up to date with A's headers.
            assertEquals(List.of("header X-First=\"first\"", "header X-Test-Header1=\"Test-Header1-Value2\"",
                    "header X-Test-Header1=\"Test-Header1-Value1\"", "header Subject=\"hello\"", "eoh", "eom",
                    "close"), from(setup.b, "header"));
        }
    }

    @Test
    void recipientSenderQuarantineAndProgressGoOutInOrder() throws Exception {
        try (Setup setup = new Setup(
                PythonMilter.builder().eom("addrcpt", "<add1@example.com>").eom("progress")
                        .eom("quarantine", "MAYBE VIRUS").eom("chgfrom", "<first@example.com>"),
                PythonMilter.builder().eom("delrcpt", "<kou+receiver@example.com>")
                        .eom("chgfrom", "<change@example.com>")).start()) {
            FakeMta mta = Flow.afterBody(setup.harness);
            assertEquals(List.of(new Reply.AddRecipient("<add1@example.com>"), Reply.Progress.INSTANCE,
                    new Reply.DeleteRecipient("<kou+receiver@example.com>"), new Reply.ChangeFrom("<change@example.com>"),
                    new Reply.Quarantine("MAYBE VIRUS"), Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
        }
    }

    @Test
    void replacedBodyIsSeenByTheSecondMilterAndItsReplacementWins() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().eom("replacebody", "body of a"),
                PythonMilter.builder().eom("replacebody-bytes", "70000")).start()) {
            FakeMta mta = Flow.afterBody(setup.harness);
            List<Reply> end = mta.endOfMessage();
            StringBuilder body = new StringBuilder();
            for (Reply reply : end.subList(0, end.size() - 1)) {
                body.append(((Reply.ReplaceBody) reply).content().toString(StandardCharsets.US_ASCII));
            }
            assertEquals(70000, body.length());
            assertTrue(body.toString().startsWith("abcdefghijklmnopqrstuvwxyzabc"));
            assertEquals(Reply.Continue.INSTANCE, end.get(end.size() - 1));
            setup.quit(mta);
            assertEquals(List.of("body 9", "eom", "close"), from(setup.b, "body"));
        }
    }

    @Test
    void evaluationMilterIsCountedAsAcceptAndItsChangesAreDropped() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().reply("envrcpt", "tempfail")
                        .eom("addheader", "X-Evaluated", "yes"), egg -> egg.evaluationMode(true),
                PythonMilter.builder().eom("addheader", "X-Real", "yes"), egg -> egg).start()) {
            FakeMta mta = Flow.afterMail(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(new Reply.InsertHeader(0, "X-Real", "yes"), Reply.Continue.INSTANCE),
                    mta.endOfMessage());
            setup.quit(mta);
            // It refused every recipient, so it was aborted at DATA.
            assertEquals(List.of("envrcpt <r@example.com>", "abort", "close"), from(setup.a, "envrcpt"));
        }
    }

    @Test
    void abortInTheMessageReachesBothMilters() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder(), PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterData(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "x@example.com")));
            mta.send(Command.Abort.INSTANCE);
            setup.quit(mta);
            assertEquals(List.of("data", "header From=\"x@example.com\"", "abort", "close"), from(setup.a, "data"));
            assertEquals(List.of("data", "abort", "close"), from(setup.b, "data"));
        }
    }

    @Test
    void unknownCommandGoesToBothMilters() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder(), PythonMilter.builder()).start()) {
            FakeMta mta = Flow.afterHelo(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Unknown("UNKNWON COMMAND")));
            setup.quit(mta);
            assertEquals(List.of("unknown UNKNWON COMMAND", "close"), from(setup.a, "unknown"));
            assertEquals(List.of("unknown UNKNWON COMMAND", "close"), from(setup.b, "unknown"));
        }
    }

    @Test
    void headerStopperHandsTheMessageToTheSecondMilter() throws Exception {
        TestCondition stopHeader = new TestCondition("stop-header").stopper(CommandType.HEADER, (c, h) -> true);
        try (Setup setup = new Setup(PythonMilter.builder(), egg -> egg.applicableConditions(List.of("stop-header")),
                PythonMilter.builder(), egg -> egg)) {
            setup.harness.condition(stopHeader);
            setup.start();
            FakeMta mta = Flow.afterData(setup.harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "x@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
            assertEquals(List.of("data", "abort", "close"), from(setup.a, "data"));
            assertEquals(List.of("data", "header From=\"x@example.com\"", "eoh", "eom", "close"),
                    from(setup.b, "data"));
        }
    }

    @Test
    void slowEndOfMessageTimesOutWithTheFallbackAndTheOtherMilterStillRuns() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().eom("sleep", "5"),
                egg -> egg.endOfMessageTimeout(0.5), PythonMilter.builder().eom("addheader", "X-B", "yes"),
                egg -> egg).start()) {
            FakeMta mta = Flow.afterBody(setup.harness);
            assertEquals(List.of(new Reply.InsertHeader(1, "X-B", "yes"), Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[end-of-message\\]"
                    + "\\[end-of-message\\]\\[accept\\] \\[\\d+\\] a");
            mta.send(Command.Quit.INSTANCE);
            setup.b.awaitLine("EVENT close", WAIT);
        }
    }

    @Test
    void secondMessageOnTheConnectionIsHandledLikeTheFirst() throws Exception {
        try (Setup setup = new Setup(PythonMilter.builder().reply("eom#1", "discard"), PythonMilter.builder())
                .start()) {
            FakeMta mta = Flow.afterBody(setup.harness);
            assertEquals(List.of(Reply.Discard.INSTANCE), mta.endOfMessage());
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<again@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi, Hi,")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            setup.quit(mta);
            List<String> second = List.of("envfrom <again@example.com>", "envrcpt <r@example.com>", "data", "eoh",
                    "body 7", "eom", "close");
            assertEquals(second, from(setup.a, "envfrom <again@example.com>"));
            assertEquals(second, from(setup.b, "envfrom <again@example.com>"));
        }
    }
}
