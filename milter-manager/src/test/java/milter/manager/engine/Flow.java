package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;

/** The MTA side of the engine tests: upstream's fixture values and the usual command sequences. */
final class Flow {
    /** Upstream's fixture actions: every v6 action but the symbol list. */
    static final int FIXTURE_ACTIONS = ActionFlags.ADD_HEADERS | ActionFlags.ADD_ENVELOPE_RECIPIENT
            | ActionFlags.DELETE_ENVELOPE_RECIPIENT | ActionFlags.CHANGE_HEADERS | ActionFlags.CHANGE_ENVELOPE_FROM
            | ActionFlags.CHANGE_BODY | ActionFlags.QUARANTINE;
    /** Upstream's fixture steps (negotiate.txt). */
    static final int FIXTURE_STEPS = ProtocolFlags.NO_CONNECT | ProtocolFlags.NO_HELO
            | ProtocolFlags.NO_ENVELOPE_FROM | ProtocolFlags.NO_ENVELOPE_RECIPIENT | ProtocolFlags.NO_DATA
            | ProtocolFlags.NO_BODY | ProtocolFlags.NO_HEADERS | ProtocolFlags.NO_END_OF_HEADER
            | ProtocolFlags.SKIP | ProtocolFlags.ENVELOPE_RECIPIENT_REJECTED
            | ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE;
    /** What the tests' MTA offers unless a test says otherwise: upstream's fixture offer. */
    static final Option OFFER = new Option(6, FIXTURE_ACTIONS, FIXTURE_STEPS);
    /** An offer with every action and every protocol flag (no-reply flags included). */
    static final Option FULL_OFFER = new Option(6, ActionFlags.ALL, ProtocolFlags.ALL);

    static final String HOST = "mx.local.net";
    static final String ADDRESS = "192.168.1.29";

    private Flow() {
    }

    static Command.Connect connectCommand() {
        return new Command.Connect(HOST, SocketFamily.INET, 2929, ADDRESS);
    }

    static Command.Body body(String text) {
        return new Command.Body(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    static Command.EndOfMessage endOfMessage(String text) {
        return new Command.EndOfMessage(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    static Command.DefineMacro macros(CommandType stage, Map<String, String> macros) {
        return new Command.DefineMacro(stage, macros);
    }

    static void expect(Reply expected, Reply actual) {
        assertEquals(expected, actual);
    }

    /** Negotiates with {@link #OFFER} and connects: the start of nearly every fixture. */
    static FakeMta connected(ManagerHarness harness) throws IOException {
        FakeMta mta = harness.mta();
        mta.negotiate(OFFER);
        assertEquals(Reply.Continue.INSTANCE, mta.call(connectCommand()));
        return mta;
    }

    /** Up to HELO (helo.txt). */
    static FakeMta afterHelo(ManagerHarness harness) throws IOException {
        FakeMta mta = connected(harness);
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
        return mta;
    }

    /** Up to MAIL (envelope-from.txt). */
    static FakeMta afterMail(ManagerHarness harness) throws IOException {
        FakeMta mta = afterHelo(harness);
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender@example.com>")));
        return mta;
    }

    /** Up to RCPT (envelope-recipient.txt). */
    static FakeMta afterRecipient(ManagerHarness harness) throws IOException {
        FakeMta mta = afterMail(harness);
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeRecipient("<kou+receiver@example.com>")));
        return mta;
    }

    /** Up to DATA (data.txt). */
    static FakeMta afterData(ManagerHarness harness) throws IOException {
        FakeMta mta = afterRecipient(harness);
        assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
        return mta;
    }

    /** Up to the body (body.txt): one From header, end of header, body "Hi,". */
    static FakeMta afterBody(ManagerHarness harness) throws IOException {
        FakeMta mta = afterData(harness);
        assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("From", "kou+sender@example.com")));
        assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
        assertEquals(Reply.Continue.INSTANCE, mta.call(body("Hi,")));
        return mta;
    }

    /** The events a child of {@link #afterData} saw before the message. */
    static final List<String> ENVELOPE_EVENTS = List.of("negotiate 6", "connect " + HOST + " " + ADDRESS,
            "helo delian", "mail <kou+sender@example.com>", "rcpt <kou+receiver@example.com>", "data");

    /** Runs a whole clean session on its own thread (to show that a stuck session does not hold others up). */
    static CompletableFuture<List<Reply>> cleanSessionInBackground(ManagerHarness harness, ExecutorService executor) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                FakeMta mta = harness.mta();
                mta.negotiate(OFFER);
                List<Reply> replies = new java.util.ArrayList<>();
                replies.add(mta.call(connectCommand()));
                replies.add(mta.call(new Command.Helo("other")));
                replies.add(mta.call(new Command.EnvelopeFrom("<other@example.com>")));
                replies.add(mta.call(new Command.EnvelopeRecipient("<other@example.net>")));
                replies.add(mta.call(Command.Data.INSTANCE));
                replies.add(mta.call(new Command.Header("Subject", "other")));
                replies.add(mta.call(Command.EndOfHeader.INSTANCE));
                replies.add(mta.call(body("other body")));
                replies.addAll(mta.endOfMessage());
                mta.send(Command.Quit.INSTANCE);
                return replies;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, executor);
    }

    static ExecutorService executor() {
        return Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "second-mta");
            thread.setDaemon(true);
            return thread;
        });
    }

    static void shutdown(ExecutorService executor) throws InterruptedException {
        executor.shutdownNow();
        executor.awaitTermination(10, TimeUnit.SECONDS);
    }
}
