package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** Modifications at end of message and what the MTA gets for them (behaviour cases 38-44, §2.5, §2.6). */
class ModificationTest {

    private static final int LEADING_SPACE = ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE;

    /** Up to the body of body.txt, then end of message; returns every packet up to the final reply. */
    private static List<Reply> bodyThenEndOfMessage(ManagerHarness harness) throws Exception {
        FakeMta mta = Flow.afterBody(harness);
        return mta.endOfMessage();
    }

    /** data.txt, then the given X-Test-Header1 values, end of header, "Hi," and end of message. */
    private static List<Reply> headersThenEndOfMessage(ManagerHarness harness, String... values) throws Exception {
        FakeMta mta = Flow.afterData(harness);
        for (String value : values) {
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-Test-Header1", value)));
        }
        assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
        assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body("Hi,")));
        return mta.endOfMessage();
    }

    @Test
    void headersAddedByBothChildrenAreInsertedAfterTheOriginals() throws Exception {
        // add-header.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").modify(new Reply.AddHeader("X-Test-Header1", "Test Header1 Value"));
            ScriptedChild b = harness.child("b").modify(new Reply.AddHeader("X-Test-Header2", " Test Header2 Value"));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header1", "Test Header1 Value"),
                    new Reply.InsertHeader(2, "X-Test-Header2", " Test Header2 Value"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
            // B saw A's header when it was brought up to date.
            assertTrue(b.events().contains("header X-Test-Header1=Test Header1 Value"), b.events().toString());
            assertTrue(!a.events().contains("header X-Test-Header2= Test Header2 Value"));
        }
    }

    @Test
    void insertPositionsAreAppliedInChildOrder() throws Exception {
        // insert-header.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.InsertHeader(2, "X-Test-Header1", "Test Header1 Value"));
            harness.child("b").modify(new Reply.InsertHeader(1, "X-Test-Header2", "Test Header2 Value"));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header2", "Test Header2 Value"),
                    new Reply.InsertHeader(2, "X-Test-Header1", "Test Header1 Value"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void addedHeaderGoesBeforeTheSameNamedOneAndAChangeOfItBecomesAChange() throws Exception {
        // change-header.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddHeader("X-Test-Header1", "Test-Header1-Value2"));
            ScriptedChild b = harness.child("b").modify(new Reply.ChangeHeader(1, "X-Test-Header1", "Replaced Value"));
            harness.start();
            assertEquals(List.of(new Reply.ChangeHeader(1, "X-Test-Header1", "Replaced Value"),
                    new Reply.InsertHeader(1, "X-Test-Header1", "Test-Header1-Value1"), Reply.Continue.INSTANCE),
                    headersThenEndOfMessage(harness, "Test-Header1-Value1"));
            assertTrue(b.events().containsAll(List.of("header X-Test-Header1=Test-Header1-Value2",
                    "header X-Test-Header1=Test-Header1-Value1")), b.events().toString());
        }
    }

    @Test
    void deletedOriginalIsDeletedAfterTheInserts() throws Exception {
        // delete-header.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddHeader("X-Test-Header2", "Test-Header2-Value1"));
            harness.child("b").modify(new Reply.ChangeHeader(1, "X-Test-Header1", ""));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(0, "X-Test-Header2", "Test-Header2-Value1"),
                    new Reply.ChangeHeader(1, "X-Test-Header1", ""), Reply.Continue.INSTANCE),
                    headersThenEndOfMessage(harness, "Test-Header1-Value1"));
        }
    }

    @Test
    void severalDeletionsGoOutLastFirst() throws Exception {
        // delete-header-many.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.ChangeHeader(2, "X-Test-Header1", ""),
                    new Reply.ChangeHeader(1, "X-Test-Header1", ""));
            harness.child("b").modify(new Reply.AddHeader("X-Test-Header2", "Test-Header2-Value"));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header2", "Test-Header2-Value"),
                    new Reply.ChangeHeader(2, "X-Test-Header1", ""), new Reply.ChangeHeader(1, "X-Test-Header1", ""),
                    Reply.Continue.INSTANCE),
                    headersThenEndOfMessage(harness, "Test-Header1-Value1", "Test-Header1-Value2",
                            "Test-Header1-Value3"));
        }
    }

    @Test
    void childrenWithoutLeadingSpaceGetASpacePrependedWhenTheMtaUsesIt() throws Exception {
        // add-header-with-leading-space.txt, insert-header-with-leading-space.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").protocol(LEADING_SPACE)
                    .modify(new Reply.AddHeader("X-Test-Header1", " Test Header1 Value"),
                            new Reply.InsertHeader(2, "X-Test-Header3", " Test Header3 Value"));
            harness.child("b").modify(new Reply.AddHeader("X-Test-Header2", "Test Header2 Value"),
                    new Reply.InsertHeader(1, "X-Test-Header4", "Test Header4 Value"));
            harness.start();
            FakeMta mta = harness.mta();
            assertEquals(LEADING_SPACE, mta.negotiate(Flow.OFFER).protocol() & LEADING_SPACE);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<s@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", " kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            // From, X1 (A, appended), X3 (A, at 2), then B: X2 appended, X4 at 1.
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header4", " Test Header4 Value"),
                    new Reply.InsertHeader(2, "X-Test-Header1", " Test Header1 Value"),
                    new Reply.InsertHeader(3, "X-Test-Header3", " Test Header3 Value"),
                    new Reply.InsertHeader(4, "X-Test-Header2", " Test Header2 Value"), Reply.Continue.INSTANCE),
                    mta.endOfMessage());
        }
    }

    @Test
    void changedValueOfAChildWithoutLeadingSpaceGetsOne() throws Exception {
        // change-header-with-leading-space.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").protocol(LEADING_SPACE)
                    .modify(new Reply.AddHeader("X-Test-Header1", " Test-Header-Value2"));
            harness.child("b").modify(new Reply.ChangeHeader(1, "X-Test-Header1", "Replaced Value"));
            harness.start();
            assertEquals(List.of(new Reply.ChangeHeader(1, "X-Test-Header1", " Replaced Value"),
                    new Reply.InsertHeader(1, "X-Test-Header1", "Test-Header1-Value1"), Reply.Continue.INSTANCE),
                    headersThenEndOfMessage(harness, "Test-Header1-Value1"));
        }
    }

    @Test
    void headerChangesOfEvaluationChildrenAreDropped() throws Exception {
        // add-header-evaluation.txt, insert-header-evaluation.txt, change-header-evaluation.txt,
        // delete-header-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a", egg -> egg.evaluationMode(true))
                    .modify(new Reply.AddHeader("X-Test-Header1", "Test Header1 Value"),
                            new Reply.InsertHeader(2, "X-Test-Header3", "Test Header3 Value"));
            harness.child("b").modify(new Reply.AddHeader("X-Test-Header2", " Test Header2 Value"));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header2", " Test Header2 Value"),
                    Reply.Continue.INSTANCE), bodyThenEndOfMessage(harness));
            LogCapture log = harness.log();
            // The statistics line is written for the evaluation child too.
            log.awaitRegex("\\[milter\\]\\[header\\]\\[add\\]\\(\\d+\\): <X-Test-Header1>=<Test Header1 Value>: a");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[evaluation\\]\\[add-header\\] \\[\\d+\\] a");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[evaluation\\]\\[insert-header\\] \\[\\d+\\] a");
        }
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddHeader("X-Test-Header1", "Test-Header1-Value2"));
            harness.child("b", egg -> egg.evaluationMode(true))
                    .modify(new Reply.ChangeHeader(1, "X-Test-Header1", "Replaced Value"),
                            new Reply.ChangeHeader(2, "X-Test-Header1", ""));
            harness.start();
            assertEquals(List.of(new Reply.ChangeHeader(1, "X-Test-Header1", "Test-Header1-Value2"),
                    new Reply.InsertHeader(1, "X-Test-Header1", "Test-Header1-Value1"), Reply.Continue.INSTANCE),
                    headersThenEndOfMessage(harness, "Test-Header1-Value1"));
        }
    }

    @Test
    void evaluationChildRefusingAtEndOfMessageLeavesTheOthersChanges() throws Exception {
        // add-header-evaluation-{reject,temporary-failure,discard}.txt
        for (Reply refusal : List.of(Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE,
                Reply.Discard.INSTANCE)) {
            try (ManagerHarness harness = new ManagerHarness()) {
                harness.child("a").modify(new Reply.AddHeader("X-Test-Header1", "Test Header1 Value"));
                harness.child("b", egg -> egg.evaluationMode(true)).reply(CommandType.END_OF_MESSAGE, refusal);
                harness.start();
                assertEquals(List.of(new Reply.InsertHeader(1, "X-Test-Header1", "Test Header1 Value"),
                        Reply.Continue.INSTANCE), bodyThenEndOfMessage(harness), refusal.toString());
            }
        }
    }

    @Test
    void evaluationChildRefusingFirstDoesNotStopTheOthers() throws Exception {
        // Quirk Q3 fixed: upstream ended the message with the evaluation child's (accept) verdict.
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a", egg -> egg.evaluationMode(true))
                    .reply(CommandType.HEADER, Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b").modify(new Reply.AddHeader("X-Checked", "yes"));
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Checked", "yes"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
            // (A's own state machine left the message with its reject, so it does not report the abort we send.)
            assertEquals(List.of("header From=kou+sender@example.com"),
                    a.eventsFrom("header From=kou+sender@example.com"));
            assertEquals(List.of("header From=kou+sender@example.com", "eoh", "body Hi,", "eom"),
                    b.eventsFrom("header From=kou+sender@example.com"));
        }
    }

    @Test
    void recipientChangesAreForwardedAsTheyComeDuplicatesIncluded() throws Exception {
        // add-recipient.txt, delete-recipient.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddRecipient("add1@example.com"),
                    new Reply.AddRecipient("add2@example.com"), new Reply.DeleteRecipient("delete1@example.com"));
            harness.child("b").modify(new Reply.AddRecipient("add2@example.com"),
                    new Reply.AddRecipient("add3@example.com"), new Reply.DeleteRecipient("delete1@example.com"));
            harness.start();
            assertEquals(List.of(new Reply.AddRecipient("add1@example.com"), new Reply.AddRecipient("add2@example.com"),
                    new Reply.DeleteRecipient("delete1@example.com"), new Reply.AddRecipient("add2@example.com"),
                    new Reply.AddRecipient("add3@example.com"), new Reply.DeleteRecipient("delete1@example.com"),
                    Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void recipientChangesOfEvaluationChildrenAreDropped() throws Exception {
        // add-recipient-evaluation.txt, delete-recipient-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a", egg -> egg.evaluationMode(true)).modify(new Reply.AddRecipient("add1@example.com"),
                    new Reply.DeleteRecipient("delete1@example.com"));
            harness.child("b").modify(new Reply.AddRecipient("add2@example.com"),
                    new Reply.DeleteRecipient("delete2@example.com"));
            harness.start();
            assertEquals(List.of(new Reply.AddRecipient("add2@example.com"),
                    new Reply.DeleteRecipient("delete2@example.com"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void senderChangeIsSentOnceAndTheLastWins() throws Exception {
        // change-from.txt, change-from-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.ChangeFrom("first@example.com"));
            harness.child("b").modify(new Reply.ChangeFrom("change@example.com", "SIZE=10"));
            harness.child("c", egg -> egg.evaluationMode(true)).modify(new Reply.ChangeFrom("evaluated@example.com"));
            harness.start();
            assertEquals(List.of(new Reply.ChangeFrom("change@example.com", "SIZE=10"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void replacedBodyIsSeenByTheNextChildAndTheLastReplacementGoesToTheMta() throws Exception {
        // replace-body.txt, replace-body-overwrite.txt, end-of-message-replaced.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").replaceBody("This is the first line from client1.")
                    .replaceBody("This is the second line from client1.")
                    .replaceBody("This is the third line from client1.");
            ScriptedChild b = harness.child("b").replaceBody("This is the first line from client2.")
                    .replaceBody("This is the second line from client2.")
                    .replaceBody("This is the third line from client2.");
            ScriptedChild c = harness.child("c");
            harness.start();
            List<Reply> end = bodyThenEndOfMessage(harness);
            assertEquals(2, end.size(), end.toString());
            assertEquals("This is the first line from client2.This is the second line from client2."
                    + "This is the third line from client2.", text(end.get(0)));
            assertEquals(Reply.Continue.INSTANCE, end.get(1));
            assertTrue(b.events().contains("body This is the first line from client1.This is the second line from "
                    + "client1.This is the third line from client1."), b.events().toString());
            assertTrue(c.events().contains("body This is the first line from client2.This is the second line from "
                    + "client2.This is the third line from client2."), c.events().toString());
        }
    }

    @Test
    void replacedBodyIsSentInChunksOfTheConfiguredSize() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").replaceBody("0123456789");
            harness.settings(config -> config.set(milter.manager.config.Setting.MANAGER_CHUNK_SIZE, 4));
            harness.start();
            List<Reply> end = bodyThenEndOfMessage(harness);
            assertEquals(List.of("0123", "4567", "89"), end.subList(0, 3).stream().map(ModificationTest::text)
                    .toList());
            assertEquals(Reply.Continue.INSTANCE, end.get(3));
        }
    }

    @Test
    void bodyReplacementOfAnEvaluationChildIsDropped() throws Exception {
        // replace-body-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a", egg -> egg.evaluationMode(true)).replaceBody("This is the first line from client1.");
            ScriptedChild b = harness.child("b");
            harness.start();
            assertEquals(List.of(Reply.Continue.INSTANCE), bodyThenEndOfMessage(harness));
            assertTrue(b.events().contains("body Hi,"), b.events().toString());
        }
    }

    @Test
    void quarantineGoesRightBeforeTheFinalReply() throws Exception {
        // quarantine.txt, quarantine-evaluation.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.Quarantine("MAYBE VIRUS"));
            harness.child("b", egg -> egg.evaluationMode(true)).modify(new Reply.Quarantine("EVALUATED"));
            harness.start();
            assertEquals(List.of(new Reply.Quarantine("MAYBE VIRUS"), Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
            long session = harness.sessionId(0);
            harness.log().await("[reply][end-of-message][quarantine](" + session + ")");
            assertEquals(1, harness.log().matching("[reply][end-of-message][quarantine](" + session + ")").size());
        }
    }

    @Test
    void acceptingChildrenStillHaveTheirChangesApplied() throws Exception {
        // quarantine-header-change.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.END_OF_MESSAGE, Reply.Accept.INSTANCE);
            harness.child("b").modify(new Reply.AddHeader("NAME", "VALUE"), new Reply.Quarantine("MAYBE VIRUS"))
                    .reply(CommandType.END_OF_MESSAGE, Reply.Accept.INSTANCE);
            harness.start();
            assertEquals(List.of(new Reply.InsertHeader(1, "NAME", "VALUE"), new Reply.Quarantine("MAYBE VIRUS"),
                    Reply.Accept.INSTANCE), bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void progressOfEveryChildIsForwarded() throws Exception {
        // progress.txt; progress of an evaluation child is forwarded too (it only keeps the MTA waiting).
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(Reply.Progress.INSTANCE);
            harness.child("b", egg -> egg.evaluationMode(true)).modify(Reply.Progress.INSTANCE);
            harness.start();
            assertEquals(List.of(Reply.Progress.INSTANCE, Reply.Progress.INSTANCE, Reply.Continue.INSTANCE),
                    bodyThenEndOfMessage(harness));
        }
    }

    @Test
    void everyKindOfChangeComesOutInUpstreamsOrder() throws Exception {
        // Recipients as they come; then body, header changes, sender, quarantine and the final reply.
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.Quarantine("Q"), new Reply.ChangeFrom("<new@example.com>"),
                    new Reply.AddHeader("X-A", "1"), new Reply.AddRecipient("<added@example.com>"));
            harness.child("b").replaceBody("new body").modify(new Reply.ChangeHeader(1, "From", "other@example.com"),
                    new Reply.DeleteRecipient("<kou+receiver@example.com>"), Reply.Progress.INSTANCE);
            harness.start();
            List<Reply> end = bodyThenEndOfMessage(harness);
            assertEquals(9, end.size(), end.toString());
            assertEquals(List.of(new Reply.AddRecipient("<added@example.com>"),
                    new Reply.DeleteRecipient("<kou+receiver@example.com>"), Reply.Progress.INSTANCE),
                    end.subList(0, 3));
            assertEquals("new body", text(end.get(3)));
            assertEquals(List.of(new Reply.ChangeHeader(1, "From", "other@example.com"),
                    new Reply.InsertHeader(1, "X-A", "1"), new Reply.ChangeFrom("<new@example.com>"),
                    new Reply.Quarantine("Q"), Reply.Continue.INSTANCE), end.subList(4, 9));
        }
    }

    @Test
    void changeTheMtaDidNotGrantIsLoggedAsALeaderError() throws Exception {
        // The MTA grants add-headers only; a header added before a same-named one needs a change-header.
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").modify(new Reply.AddHeader("X-Spam", "yes"));
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(new Option(6, ActionFlags.ADD_HEADERS, 0));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<s@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-Spam", "no")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(new Reply.InsertHeader(1, "X-Spam", "no"), Reply.Continue.INSTANCE),
                    mta.endOfMessage());
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[leader\\]\\[error\\]\\[insert-header\\] <X-Spam>\\[1\\]=<yes>: "
                    + "the MTA did not grant <change-headers>");
            log.awaitRegex("\\[session\\]\\[header\\]\\[add\\]\\(\\d+\\): <X-Spam>=<no>");
            assertEquals(1, log.matching("[session][header][add]").size());
        }
    }

    private static String text(Reply reply) {
        return ((Reply.ReplaceBody) reply).content().toString(StandardCharsets.ISO_8859_1);
    }
}
