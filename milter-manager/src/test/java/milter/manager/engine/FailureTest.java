package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.Status;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Children that hang, die, write garbage or break the protocol, and large bodies: every session still gets a
 * definite answer, other sessions on the same manager (one event loop for all of them here) are not held up,
 * and nothing is left behind.
 */
class FailureTest {

    private static final List<Reply> CLEAN_SESSION = List.of(Reply.Continue.INSTANCE, Reply.Continue.INSTANCE,
            Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, Reply.Continue.INSTANCE,
            Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, Reply.Continue.INSTANCE);

    /** Hangs when a command's text contains "slow", answers continue otherwise. */
    private static ScriptedChild.Behaviour hangOnSlow(java.util.function.Function<Command, String> text) {
        return (context, command) -> text.apply(command).contains("slow") ? new CompletableFuture<>()
                : CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
    }

    @Test
    void readingTimeoutAtHeloGivesTheChildsFallbackWhileAnotherSessionRunsNormally() throws Exception {
        ExecutorService executor = Flow.executor();
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild slow = harness.child("slow", egg -> egg.readingTimeout(0.5).fallbackStatus(Status.ACCEPT))
                    .behave(CommandType.HELO, hangOnSlow(command -> ((Command.Helo) command).fqdn()));
            ScriptedChild fine = harness.child("fine");
            harness.start();
            FakeMta mta = Flow.connected(harness);
            mta.send(new Command.Helo("slow.example.net"));
            slow.awaitEvent("helo slow.example.net");
            // While this session waits for the hanging child, a second one goes through both children.
            List<Reply> other = Flow.cleanSessionInBackground(harness, executor).get(30, TimeUnit.SECONDS);
            assertEquals(CLEAN_SESSION, other);
            assertEquals(Reply.Continue.INSTANCE, mta.read());
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            mta.send(Command.Quit.INSTANCE);
            fine.awaitEvent("quit", 2);
            assertTrue(fine.events().contains("mail <a@example.com>"));
            assertFalse(slow.events().contains("mail <a@example.com>"));
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[reading\\]\\[helo\\]\\[accept\\] \\[\\d+\\] slow");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[helo\\]\\[error\\]\\[[0-9.e-]+\\]\\(\\d+\\): slow");
        } finally {
            Flow.shutdown(executor);
        }
    }

    @Test
    void readingTimeoutOfTheStreamingChildHandsTheMessageToTheNext() throws Exception {
        // Deviation (accept fallback in the message stages): only that child is dropped; B still filters.
        ExecutorService executor = Flow.executor();
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("slow", egg -> egg.readingTimeout(0.3))
                    .behave(CommandType.HEADER, hangOnSlow(command -> ((Command.Header) command).value()));
            ScriptedChild b = harness.child("b").modify(new Reply.AddHeader("X-B", "seen"));
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            mta.send(new Command.Header("Subject", "slow"));
            List<Reply> other = Flow.cleanSessionInBackground(harness, executor).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, Reply.Continue.INSTANCE,
                    Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, Reply.Continue.INSTANCE,
                    Reply.Continue.INSTANCE, Reply.Continue.INSTANCE, new Reply.InsertHeader(1, "X-B", "seen"),
                    Reply.Continue.INSTANCE), other);
            assertEquals(Reply.Continue.INSTANCE, mta.read());
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(new Reply.InsertHeader(1, "X-B", "seen"), Reply.Continue.INSTANCE),
                    mta.endOfMessage());
            assertEquals(List.of("header Subject=slow", "eoh", "eom"), b.eventsFrom("header Subject=slow"));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[reading\\]\\[header\\]\\[accept\\] "
                    + "\\[\\d+\\] slow");
        } finally {
            Flow.shutdown(executor);
        }
    }

    @Test
    void refusingFallbackOfATimedOutChildEndsTheMessage() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("slow", egg -> egg.readingTimeout(0.2).fallbackStatus(Status.TEMPORARY_FAILURE))
                    .hangAt(CommandType.BODY);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(Reply.TemporaryFailure.INSTANCE, mta.call(Flow.body("Hi,")));
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertEquals(List.of("data", "abort", "quit"), b.eventsFrom("data"));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[reading\\]\\[body\\]"
                    + "\\[temporary-failure\\] \\[\\d+\\] slow");
        }
    }

    @Test
    void endOfMessageTimeoutUsesTheFallbackAndTheOthersStillFilter() throws Exception {
        ExecutorService executor = Flow.executor();
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").modify(new Reply.AddHeader("X-A", "1"));
            ScriptedChild slow = harness.child("slow", egg -> egg.endOfMessageTimeout(0.5).readingTimeout(60))
                    .behave(CommandType.END_OF_MESSAGE, (context, command) ->
                            ((Command.EndOfMessage) command).content().isReadable() ? new CompletableFuture<>()
                                    : CompletableFuture.completedFuture(Reply.Continue.INSTANCE));
            ScriptedChild c = harness.child("c").modify(new Reply.AddHeader("X-C", "3"));
            harness.start();
            FakeMta mta = Flow.afterBody(harness);
            mta.send(Flow.endOfMessage("slow"));
            slow.awaitEvent("eom slow");
            List<Reply> other = Flow.cleanSessionInBackground(harness, executor).get(30, TimeUnit.SECONDS);
            assertEquals(Reply.Continue.INSTANCE, other.get(other.size() - 1));
            assertEquals(List.of(new Reply.InsertHeader(1, "X-A", "1"), new Reply.InsertHeader(2, "X-C", "3"),
                    Reply.Continue.INSTANCE), mta.readUntilFinal());
            assertTrue(a.events().contains("eom slow"));
            assertTrue(c.events().contains("eom slow"));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[end-of-message\\]\\[end-of-message\\]"
                    + "\\[accept\\] \\[\\d+\\] slow");
        } finally {
            Flow.shutdown(executor);
        }
    }

    @Test
    void writingTimeoutOfAChildThatStoppedReading() throws Exception {
        // The child wants no reply to end of header and body chunks and stops reading after an X-Stop header: the
        // manager's writes back up until the writing timeout drops it; the other child gets the whole body, and a
        // session running meanwhile (through the same two children) is not held up.
        ExecutorService executor = Flow.executor();
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("stuck", egg -> egg.writingTimeout(0.3))
                    .protocol(ProtocolFlags.NO_REPLY_END_OF_HEADER | ProtocolFlags.NO_REPLY_BODY)
                    .behave(CommandType.HEADER, (context, command) -> {
                        if (((Command.Header) command).name().equals("X-Stop")) {
                            context.channel().config().setAutoRead(false);
                        }
                        return CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
                    });
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.FULL_OFFER);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<s@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<r@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("X-Stop", "yes")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            String chunk = "x".repeat(65535);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body(chunk)));
            long sent = chunk.length();
            List<Reply> other = Flow.cleanSessionInBackground(harness, executor).get(30, TimeUnit.SECONDS);
            assertEquals(Reply.Continue.INSTANCE, other.get(other.size() - 1), other.toString());
            LogCapture log = harness.log();
            for (int i = 0; i < 400 && !log.has("[children][timeout][writing]"); i++) {
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body(chunk)));
                sent += chunk.length();
            }
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[timeout\\]\\[writing\\]\\[body\\]\\[accept\\] "
                    + "\\[\\d+\\] stuck");
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            assertEquals(sent, bodyBytes(b.eventsFrom("header X-Stop=yes")));
            assertTrue(b.eventsFrom("header X-Stop=yes").contains("eom"));
        } finally {
            Flow.shutdown(executor);
        }
    }

    @Test
    void childClosingMidHeaderMidBodyOrAtEndOfMessageLeavesTheMessageToTheOthers() throws Exception {
        for (CommandType stage : List.of(CommandType.HEADER, CommandType.BODY, CommandType.END_OF_MESSAGE)) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a").closeAt(stage);
                ScriptedChild b = harness.child("b").modify(new Reply.AddHeader("X-B", "seen"));
                harness.start();
                FakeMta mta = Flow.afterBody(harness);
                assertEquals(List.of(new Reply.InsertHeader(1, "X-B", "seen"), Reply.Continue.INSTANCE),
                        mta.endOfMessage(), stage.nick());
                assertEquals(List.of("header From=kou+sender@example.com", "eoh", "body Hi,", "eom"),
                        b.eventsFrom("header From=kou+sender@example.com"), stage.nick());
                a.closed().join();
                LogCapture log = harness.log();
                log.awaitRegex("\\[\\d+\\] \\[children\\]\\[unexpected\\] \\[\\d+\\] finish without receiving "
                        + "response: a");
                log.awaitRegex("\\[milter\\]\\[end\\]\\[" + stage.nick() + "\\]\\[error\\]\\[[0-9.e-]+\\]"
                        + "\\(\\d+\\): a");
            }
        }
    }

    @Test
    void streamingChildThatWentAwayBetweenCommandsIsReplacedByTheNext() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").behave(CommandType.HEADER, (context, command) -> {
                context.eventLoop().execute(context::close);
                return CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
            });
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[end\\]\\[header\\] \\[\\d+\\] a");
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            a.closed().join();
            assertEquals(List.of("header From=kou+sender@example.com", "eoh", "eom"),
                    b.eventsFrom("header From=kou+sender@example.com"));
        }
    }

    @Test
    void garbageFromAChildIsADecodeErrorThatDropsOnlyThatChild() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a", egg -> egg.fallbackStatus(Status.ACCEPT))
                    .rawAt(CommandType.HELO, "garbage that is no milter packet".getBytes(StandardCharsets.US_ASCII));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            a.closed().join();
            assertTrue(b.events().contains("mail <a@example.com>"));
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[agent\\]\\[error\\]\\[decode\\] \\[a\\] Decode error: .*");
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[helo\\]\\[accept\\] \\[\\d+\\] Decode error: .*: a");
        }
    }

    @Test
    void modificationOutsideEndOfMessageIsAnInvalidState() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").illegalReplyAt(CommandType.HEADER, new Reply.AddHeader("X-Spam", "yes"));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            a.closed().join();
            assertEquals(List.of("header From=kou+sender@example.com", "eoh", "eom"),
                    b.eventsFrom("header From=kou+sender@example.com"));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[invalid-state\\]\\[add-header\\]"
                    + "\\[header\\] \\[\\d+\\] only allowed in end of message session: a");
        }
    }

    @Test
    void replyTheStateDoesNotAllowDropsTheChildWithItsFallback() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a", egg -> egg.fallbackStatus(Status.REJECT))
                    .illegalReplyAt(CommandType.ENVELOPE_FROM, Reply.Skip.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<b@example.com>")));
            a.closed().join();
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertFalse(a.events().contains("mail <b@example.com>"));
            assertTrue(b.events().contains("mail <b@example.com>"));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[envelope-from\\]\\[reject\\] \\[\\d+\\] "
                    + "<skip> should be caused on .*: a");
        }
    }

    @Test
    void bodyLargerThanTheMemoryLimitGoesThroughATemporaryFileThatIsRemovedAfterwards(@TempDir Path tmp)
            throws Exception {
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b").replaceBody("replaced");
            ScriptedChild c = harness.child("c");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            String chunk = "y".repeat(65535);
            int chunks = 6 * 1024 * 1024 / 65535 + 1;
            for (int i = 0; i < chunks; i++) {
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body(chunk)));
            }
            // The file was unlinked right after it was opened: only the open descriptor shows it.
            assertEquals(List.of(), list(tmp));
            assertEquals(1, openFilesIn(tmp));
            List<Reply> end = mta.endOfMessage();
            assertEquals(2, end.size());
            assertEquals("replaced", ((Reply.ReplaceBody) end.get(0)).content().toString(StandardCharsets.US_ASCII));
            assertEquals((long) chunks * chunk.length(), bodyBytes(a.events()));
            assertEquals((long) chunks * chunk.length(), bodyBytes(b.events()));
            assertTrue(c.events().contains("body replaced"));
            assertEquals(0, openFilesIn(tmp));
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
    }

    @Test
    void temporaryFileIsRemovedWhenTheMtaGoesAwayMidBody(@TempDir Path tmp) throws Exception {
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            String chunk = "z".repeat(65535);
            for (int i = 0; i < 6 * 1024 * 1024 / 65535 + 1; i++) {
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body(chunk)));
            }
            assertEquals(1, openFilesIn(tmp));
            mta.close();
            a.closed().join();
            harness.awaitSessionEnds(1);
            assertEquals(0, openFilesIn(tmp));
            assertEquals(List.of(), list(tmp));
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
    }

    @Test
    void temporaryFileThatCannotBeCreatedEndsTheMessageWithTheManagerFallback(@TempDir Path tmp) throws Exception {
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.resolve("missing").toString());
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            harness.settings(config -> config.set(milter.manager.config.Setting.MANAGER_FALLBACK_STATUS,
                    "temporary-failure"));
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            String chunk = "w".repeat(65535);
            Reply reply = Reply.Continue.INSTANCE;
            int sent = 0;
            while (reply == Reply.Continue.INSTANCE && sent < 200) {
                reply = mta.call(Flow.body(chunk));
                sent++;
            }
            assertEquals(Reply.TemporaryFailure.INSTANCE, reply);
            assertEquals(5 * 1024 * 1024 / 65535 + 1, sent);
            mta.send(Command.Abort.INSTANCE, Command.Quit.INSTANCE);
            a.closed().join();
            assertEquals(List.of("abort", "quit"), a.events().subList(a.events().size() - 2, a.events().size()));
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[body\\]\\[open\\] .*missing.*");
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
    }

    private static List<Path> list(Path directory) throws java.io.IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.toList();
        }
    }

    /** Descriptors of this process open on (deleted) files of {@code directory} (Linux {@code /proc}). */
    private static long openFilesIn(Path directory) throws java.io.IOException {
        long count = 0;
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
            for (Path descriptor : descriptors.toList()) {
                try {
                    if (Files.readSymbolicLink(descriptor).toString().startsWith(directory.toString() + "/")) {
                        count++;
                    }
                } catch (java.io.IOException | UnsupportedOperationException gone) {
                    // Closed while listing, or not a link: not ours.
                }
            }
        }
        return count;
    }

    /** The body bytes a scripted child saw ("body <N bytes>" for large chunks). */
    private static long bodyBytes(List<String> events) {
        long total = 0;
        for (String event : new ArrayList<>(events)) {
            if (event.startsWith("body <") && event.endsWith(" bytes>")) {
                total += Long.parseLong(event.substring(6, event.length() - 7));
            } else if (event.startsWith("body ")) {
                total += event.length() - 5;
            }
        }
        return total;
    }
}
