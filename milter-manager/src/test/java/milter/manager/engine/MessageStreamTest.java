package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.manager.config.Setting;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * Headers, end of header and body: the sequential pipeline, where only the current child gets the MTA's commands
 * as they come and the next one is brought up to date from the stored message (behaviour cases 26-34).
 */
class MessageStreamTest {

    private static List<String> afterData(String... events) {
        List<String> all = new ArrayList<>(Flow.ENVELOPE_EVENTS);
        all.addAll(List.of(events));
        return all;
    }

    private static void quit(FakeMta mta, ScriptedChild... children) throws Exception {
        mta.send(Command.Quit.INSTANCE);
        for (ScriptedChild child : children) {
            child.closed().join();
        }
    }

    @Test
    void onlyTheFirstChildGetsHeadersEndOfHeaderAndBodyLiveAndTheSecondGetsThemReplayed() throws Exception {
        // header-from.txt, header-from-and-mailer.txt, end-of-header.txt, body.txt, end-of-message.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-mailer", "milter-mailer")));
            assertEquals(afterData("header From=kou+sender@example.com", "header X-mailer=milter-mailer"),
                    a.events());
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi,")));
            assertEquals(afterData(), b.events());
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            List<String> expected = afterData("header From=kou+sender@example.com", "header X-mailer=milter-mailer",
                    "eoh", "body Hi,", "eom", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void headerRefusedByTheFirstChildEndsTheMessageBeforeTheSecondSeesIt() throws Exception {
        // header-reject.txt, header-temporary-failure.txt
        for (Reply refusal : List.of(Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE)) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a").reply(CommandType.HEADER, refusal);
                ScriptedChild b = harness.child("b");
                harness.start();
                FakeMta mta = Flow.afterData(harness);
                assertEquals(refusal, mta.call(new Command.Header("From", "kou+sender@example.com")));
                mta.send(Command.Abort.INSTANCE);
                quit(mta, a, b);
                assertEquals(afterData("header From=kou+sender@example.com", "quit"), a.events());
                assertEquals(afterData("abort", "quit"), b.events());
            }
        }
    }

    @Test
    void headerStopperAbortsThatChildAndTheNextTakesOver() throws Exception {
        // header-stop.txt
        TestCondition stopHeader = new TestCondition("stop-header").stopper(CommandType.HEADER, (c, h) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopHeader);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-header")));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(afterData("abort"), a.events());
            assertEquals(afterData("header From=kou+sender@example.com"), b.events());
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("abort", "quit"), a.events());
            assertEquals(afterData("header From=kou+sender@example.com", "eoh", "eom", "quit"), b.events());
            assertEquals(List.of("header a From: kou+sender@example.com"), stopHeader.calls);
        }
    }

    @Test
    void everyChildStoppedAtAHeaderMeansAccept() throws Exception {
        // header-stop-all.txt
        TestCondition stopHeader = new TestCondition("stop-header").stopper(CommandType.HEADER, (c, h) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopHeader);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-header")));
            ScriptedChild b = harness.child("b", egg -> egg.applicableConditions(List.of("stop-header")));
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Accept.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            quit(mta, a, b);
            assertEquals(afterData("abort", "quit"), a.events());
            assertEquals(afterData("abort", "quit"), b.events());
        }
    }

    @Test
    void bodyAcceptedByBothChildrenIsAccepted() throws Exception {
        // body-accept.txt: B is brought up to date (headers, end of header, body) before it answers.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").replyBodyContaining("Accept", Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b").replyBodyContaining("Accept", Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.body("Accept message")));
            quit(mta, a, b);
            List<String> expected = afterData("header From=kou+sender@example.com", "eoh", "body Accept message",
                    "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void bodyAcceptedByTheFirstChildGoesOnWithTheSecond() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.BODY, Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("first")));
            // B is now the streaming child.
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("second")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("eoh", "body first", "quit"), a.events());
            assertEquals(afterData("eoh", "body first", "body second", "eom", "quit"), b.events());
        }
    }

    @Test
    void skippedBodyIsNotSentToThatChildButTheNextGetsItWhole() throws Exception {
        // body-skip.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").protocol(ProtocolFlags.SKIP)
                    .replyBodyContaining("Skip", Reply.Skip.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Skip")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Continue")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("header From=kou+sender@example.com", "eoh", "body Skip", "eom", "quit"),
                    a.events());
            assertEquals(afterData("header From=kou+sender@example.com", "eoh", "body SkipContinue", "eom", "quit"),
                    b.events());
        }
    }

    @Test
    void bothChildrenSkippingStillGetTheirEndOfMessage() throws Exception {
        // body-skip-all.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").protocol(ProtocolFlags.SKIP)
                    .replyBodyContaining("First", Reply.Skip.INSTANCE);
            ScriptedChild b = harness.child("b").protocol(ProtocolFlags.SKIP)
                    .replyBodyContaining("Second", Reply.Skip.INSTANCE);
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("First skip message")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Second skip message")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("eoh", "body First skip message", "eom", "quit"), a.events());
            assertEquals(afterData("eoh", "body First skip messageSecond skip message", "eom", "quit"), b.events());
        }
    }

    @Test
    void childrenWithoutBodyStepNeverGetTheBody() throws Exception {
        // no-body-flag.txt, no-body-flag-on-second-client.txt
        for (int noBody = 0; noBody < 2; noBody++) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a").protocol(noBody == 0 ? ProtocolFlags.NO_BODY : 0);
                ScriptedChild b = harness.child("b").protocol(noBody == 1 ? ProtocolFlags.NO_BODY : 0);
                harness.start();
                FakeMta mta = Flow.afterBody(harness);
                assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
                quit(mta, a, b);
                List<String> without = afterData("header From=kou+sender@example.com", "eoh", "eom", "quit");
                List<String> with = afterData("header From=kou+sender@example.com", "eoh", "body Hi,", "eom", "quit");
                assertEquals(noBody == 0 ? without : with, a.events());
                assertEquals(noBody == 1 ? without : with, b.events());
            }
        }
    }

    @Test
    void chunkLargerThanOnePacketIsSplitForTheChildren() throws Exception {
        // body-larger-than-milter-chunk-size.txt: the MTA may send 256 KiB chunks once it negotiated them.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            Option reply = mta.negotiate(new Option(6, Flow.FIXTURE_ACTIONS, ProtocolFlags.MAX_DATA_SIZE_256K));
            assertEquals(ProtocolFlags.MAX_DATA_SIZE_256K, reply.protocol());
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            // Our encoder splits large chunks itself, so the packet is written raw.
            mta.sendRaw(ScriptedChild.packet('B', "0".repeat(100_000)));
            assertEquals(Reply.Continue.INSTANCE, mta.read());
            assertEquals(List.of("eoh", "body <65535 bytes>", "body <34465 bytes>"), a.eventsFrom("eoh"));
            assertEquals(List.of(), b.eventsFrom("eoh"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(List.of("eoh", "body <65535 bytes>", "body <34465 bytes>", "eom", "quit"), b.eventsFrom("eoh"));
        }
    }

    @Test
    void replayedBodyComesInChunksOfTheConfiguredSize() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.settings(config -> config.set(Setting.MANAGER_CHUNK_SIZE, 4));
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("SkipContinue")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(List.of("eoh", "body SkipContinue", "eom", "quit"), a.eventsFrom("eoh"));
            assertEquals(List.of("eoh", "body Skip", "body Cont", "body inue", "eom", "quit"), b.eventsFrom("eoh"));
        }
    }

    @Test
    void endOfMessageDataGoesToEveryChildWithoutBeingStored() throws Exception {
        // end-of-message-chunk.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(Flow.endOfMessage("The last text"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.readUntilFinal());
            quit(mta, a, b);
            List<String> expected = afterData("header From=kou+sender@example.com", "eoh", "body Hi,",
                    "eom The last text", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void messageWithoutHeadersStillReplaysEndOfHeaderAndBody() throws Exception {
        // end-of-message-without-header.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi,")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("eoh", "body Hi,", "eom", "quit"), a.events());
            assertEquals(afterData("eoh", "body Hi,", "eom", "quit"), b.events());
        }
    }

    @Test
    void leadingSpaceOfHeaderValuesIsKeptOnlyForChildrenThatAskedForIt() throws Exception {
        // header-with-leading-space.txt, header-with-leading-space-no-space.txt
        for (int withSpace = 0; withSpace < 2; withSpace++) {
            try (ManagerHarness harness = new ManagerHarness()) {
                int flag = ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE;
                ScriptedChild a = harness.child("a").protocol(withSpace == 0 ? flag : 0);
                ScriptedChild b = harness.child("b").protocol(withSpace == 1 ? flag : 0);
                harness.start();
                FakeMta mta = harness.mta();
                Option reply = mta.negotiate(Flow.OFFER);
                assertEquals(flag, reply.protocol() & flag);
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<s@example.com>")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", " kou+sender@example.com")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
                assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
                quit(mta, a, b);
                String spaced = "header From= kou+sender@example.com";
                String bare = "header From=kou+sender@example.com";
                assertEquals(List.of(withSpace == 0 ? spaced : bare, "eoh", "eom", "quit"),
                        a.eventsFrom(withSpace == 0 ? spaced : bare));
                assertEquals(List.of(withSpace == 1 ? spaced : bare, "eoh", "eom", "quit"),
                        b.eventsFrom(withSpace == 1 ? spaced : bare));
            }
        }
    }

    @Test
    void secondMessageOnTheConnectionStreamsAgain() throws Exception {
        // header-again.txt, body-again.txt, end-of-message-again.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender2@example.com>")));
            assertEquals(Reply.Continue.INSTANCE,
                    mta.call(new Command.EnvelopeRecipient("<kou+receiver2@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender2@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-mailer", "milter-mailer")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi, Hi,")));
            assertEquals(List.of("mail <kou+sender2@example.com>", "rcpt <kou+receiver2@example.com>", "data"),
                    b.eventsFrom("mail <kou+sender2@example.com>"));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            List<String> second = List.of("mail <kou+sender2@example.com>", "rcpt <kou+receiver2@example.com>", "data",
                    "header From=kou+sender2@example.com", "header X-mailer=milter-mailer", "eoh", "body Hi, Hi,",
                    "eom", "quit");
            assertEquals(second, a.eventsFrom("mail <kou+sender2@example.com>"));
            assertEquals(second, b.eventsFrom("mail <kou+sender2@example.com>"));
        }
    }

    @Test
    void bodyStopperHandsTheBodyToTheNextChild() throws Exception {
        TestCondition stopBody = new TestCondition("stop-body").stopper(CommandType.BODY,
                (c, chunk) -> chunk.contains("stop"));
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopBody);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-body")));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("go on ")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("stop here")));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b);
            assertEquals(afterData("eoh", "body go on ", "abort", "quit"), a.events());
            assertEquals(afterData("eoh", "body go on stop here", "eom", "quit"), b.events());
        }
    }

    @Test
    void endOfHeaderAndEndOfMessageStoppersWork() throws Exception {
        TestCondition stopEoh = new TestCondition("stop-eoh").stopper(CommandType.END_OF_HEADER, (c, x) -> true);
        TestCondition stopEom = new TestCondition("stop-eom").stopper(CommandType.END_OF_MESSAGE, (c, x) -> true);
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(stopEoh).condition(stopEom);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("stop-eoh")));
            ScriptedChild b = harness.child("b", egg -> egg.applicableConditions(List.of("stop-eom")));
            ScriptedChild c = harness.child("c");
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            quit(mta, a, b, c);
            assertEquals(afterData("header From=kou+sender@example.com", "abort", "quit"), a.events());
            assertEquals(afterData("header From=kou+sender@example.com", "eoh", "body Hi,", "abort", "quit"),
                    b.events());
            assertEquals(afterData("header From=kou+sender@example.com", "eoh", "body Hi,", "eom", "quit"),
                    c.events());
        }
    }
}
