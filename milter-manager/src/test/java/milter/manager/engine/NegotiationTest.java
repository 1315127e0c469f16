package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.Status;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Negotiation with the MTA and the children (behaviour cases 1-5 and the connection failures of §1.3). */
class NegotiationTest {

    @Test
    void offerGoesToEveryChildVerbatimAndOnlyRequestedYesFlagsComeBack() throws Exception {
        // negotiate.txt: the first child asks for skip.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").protocol(ProtocolFlags.SKIP);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(Flow.OFFER);
            assertEquals(new Option(6, Flow.FIXTURE_ACTIONS, ProtocolFlags.SKIP), reply);
            assertEquals(Flow.OFFER, a.offer());
            assertEquals(Flow.OFFER, b.offer());
            assertEquals(List.of("negotiate 6"), a.events());
            assertEquals(List.of("negotiate 6"), b.events());
            harness.log().await("[children][negotiate][done]");
        }
    }

    @Test
    void replyMergesNoReplyFlagsOfAllYesFlagsOfAnyAndMacroListsOfEveryChild() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a")
                    .protocol(ProtocolFlags.NO_REPLY_HELO | ProtocolFlags.NO_REPLY_ENVELOPE_RECIPIENT
                            | ProtocolFlags.SKIP | ProtocolFlags.NO_BODY)
                    .actions(ActionFlags.ADD_HEADERS)
                    .macroRequest(MacroStage.CONNECT, "j", "{daemon_name}");
            harness.child("b")
                    .protocol(ProtocolFlags.NO_REPLY_HELO | ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE
                            | ProtocolFlags.NO_CONNECT)
                    .actions(ActionFlags.CHANGE_BODY)
                    .macroRequest(MacroStage.CONNECT, "j", "{if_addr}")
                    .macroRequest(MacroStage.ENVELOPE_FROM, "i");
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(Flow.FULL_OFFER);
            assertEquals(6, reply.version());
            assertEquals(ActionFlags.ALL, reply.actions());
            // No-event flags are never passed on; no-reply only when every child asked; yes-flags when any did.
            assertEquals(ProtocolFlags.NO_REPLY_HELO | ProtocolFlags.SKIP
                    | ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE, reply.protocol());
            assertEquals(Map.of(MacroStage.CONNECT, List.of("j", "{daemon_name}", "{if_addr}"),
                    MacroStage.ENVELOPE_FROM, List.of("i")), reply.macroRequests());
        }
    }

    @Test
    void yesFlagsTheMtaDidNotOfferAreNotReturned() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").protocol(ProtocolFlags.SKIP | ProtocolFlags.NO_REPLY_HELO);
            harness.start();
            FakeMta mta = harness.mta();
            Option offer = new Option(6, ActionFlags.ADD_HEADERS, ProtocolFlags.NO_CONNECT);
            Option reply = mta.negotiate(offer);
            assertEquals(new Option(6, ActionFlags.ADD_HEADERS, 0), reply);
            assertEquals(offer, a.offer());
        }
    }

    @Test
    void withoutAnyEggTheNegotiationIsAnsweredAndConnectGetsTheManagerFallback() throws Exception {
        // negotiate-no-child.txt, connect-no-child.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(Flow.OFFER);
            assertEquals(6, reply.version());
            assertEquals(0, reply.protocol() & ProtocolFlags.NO_REPLY_MASK);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.connectCommand()));
            // Quirk Q6 fixed: exactly one reply for the command.
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            assertEquals(List.of(), mta.unread());
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[alive\\] All milters are no longer alive\\.");
            log.awaitRegex("\\[\\d+\\] \\[leader\\]\\[error\\] All milters are no longer alive\\.");
            assertFalse(log.has("[children][error][negotiate][no-response]"));
        }
    }

    @Test
    void disabledEggsAreNeverContacted() throws Exception {
        // negotiate-no-enabled-child.txt, connect-no-enabled-child.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a", egg -> egg.enabled(false));
            ScriptedChild b = harness.child("b", egg -> egg.enabled(false));
            harness.start();
            FakeMta mta = harness.mta();
            assertEquals(6, mta.negotiate(Flow.OFFER).version());
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.connectCommand()));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            assertEquals(List.of(), a.events());
            assertEquals(List.of(), b.events());
            assertTrue(a.sessionIds().isEmpty());
            harness.log().await("[children][error][alive] All milters are no longer alive.");
        }
    }

    @Test
    void eggWithoutConnectionSpecIsSkippedWithAnError() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.external("nowhere", null, egg -> egg);
            harness.start();
            FakeMta mta = Flow.connected(harness);
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            a.closed().join();
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "quit"), a.events());
            harness.log().awaitRegex("\\[egg\\]\\[error\\] must set connection spec: nowhere");
        }
    }

    @Test
    void refusedChildIsDroppedAndMailPassesThroughTheOther() throws Exception {
        // negotiate-no-bind.txt with the default fallback (accept): the dead child is left out (§1.4.5).
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.refusingChild("b", egg -> egg);
            harness.start();
            FakeMta mta = harness.mta();
            assertEquals(new Option(6, Flow.FIXTURE_ACTIONS, 0), mta.negotiate(Flow.OFFER));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<b@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian",
                    "mail <a@example.com>", "rcpt <b@example.com>", "data", "eoh", "eom", "quit"), a.events());
            LogCapture log = harness.log();
            LogCapture.Line error = log.awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[connection\\] \\[\\d+\\] "
                    + "Failed to connect to inet:\\d+@\\[127\\.0\\.0\\.1\\]: Connection refused: b");
            assertEquals(milter.core.log.LogLevel.ERROR, error.level());
            log.awaitRegex("\\[\\d+\\] \\[leader\\]\\[error\\] Failed to connect to inet:\\d+@\\[127\\.0\\.0\\.1\\]: "
                    + "Connection refused");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[connection\\]\\[not-retry\\] \\[\\d+\\] "
                    + "not privilege mode: b");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[start\\]\\[error\\]\\[0\\]\\(\\d+\\): b");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Status.class, names = {"REJECT", "TEMPORARY_FAILURE", "DISCARD"})
    void refusingFallbackOfADeadChildMakesTheWholeSessionFallBack(Status fallback) throws Exception {
        // negotiate-fallback-{reject,temporary-failure,discard}.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.refusingChild("b", egg -> egg.fallbackStatus(fallback));
            harness.settings(config -> config.set(milter.manager.config.Setting.MANAGER_FALLBACK_STATUS,
                    fallback.nick()));
            harness.start();
            FakeMta mta = harness.mta();
            assertEquals(6, mta.negotiate(Flow.OFFER).version());
            Reply expected = switch (fallback) {
                case REJECT -> Reply.Reject.INSTANCE;
                case TEMPORARY_FAILURE -> Reply.TemporaryFailure.INSTANCE;
                default -> Reply.Discard.INSTANCE;
            };
            assertEquals(expected, mta.call(Flow.connectCommand()));
            a.closed().join();
            assertEquals(List.of("negotiate 6"), a.events());
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[negotiate\\]\\[fallback\\]\\[all-expire\\]\\["
                    + fallback.nick() + "\\]");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[negotiate\\]\\[fallback\\]\\[expire\\]\\["
                    + fallback.nick() + "\\] \\[\\d+\\] a");
        }
    }

    @Test
    void childThatNeverAcceptsTheConnectionTimesOut() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.unreachableChild("slow", egg -> egg.connectionTimeout(0.2));
            harness.start();
            FakeMta mta = harness.mta();
            assertEquals(6, mta.negotiate(Flow.OFFER).version());
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29"), a.events());
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[connection\\] \\[\\d+\\] slow");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[start\\]\\[error\\]\\[0\\]\\(\\d+\\): slow");
        }
    }

    @Test
    void whenNoChildNegotiatesTheMtaStillGetsAnAnswerAndNoNoReplyFlag() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.refusingChild("a", egg -> egg);
            harness.refusingChild("b", egg -> egg);
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(Flow.FULL_OFFER);
            // Deviation ("No child negotiated"): no no-reply flag is granted, so the MTA hears the fallback.
            assertEquals(0, reply.protocol() & ProtocolFlags.NO_REPLY_MASK);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.connectCommand()));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[negotiate\\]\\[no-response\\]");
        }
    }

    @Test
    void childWithVersionTwoIsNeverSentDataOrUnknown() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild old = harness.child("old").version(2);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Unknown("HELP")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<b@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            mta.send(Command.Quit.INSTANCE);
            old.closed().join();
            b.closed().join();
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian",
                    "mail <a@example.com>", "rcpt <b@example.com>", "eoh", "eom", "quit"), old.events());
            assertEquals(List.of("negotiate 6", "connect mx.local.net 192.168.1.29", "helo delian", "unknown HELP",
                    "mail <a@example.com>", "rcpt <b@example.com>", "data", "eoh", "eom", "quit"), b.events());
        }
    }

    @Test
    void childOfferedMacrosAreFilteredToItsList() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").macroRequest(MacroStage.CONNECT, "j");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.FULL_OFFER);
            mta.send(Flow.macros(CommandType.CONNECT, Map.of("{daemon_name}", "Postfix", "j", "postfix")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals("connect mx.local.net 192.168.1.29 {j=postfix}", a.events().get(1));
            assertEquals("connect mx.local.net 192.168.1.29 {daemon_name=Postfix, j=postfix}", b.events().get(1));
        }
    }
}
