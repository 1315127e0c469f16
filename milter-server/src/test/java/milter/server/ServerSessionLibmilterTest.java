package milter.server;

import static milter.server.SessionTesting.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import milter.core.net.Transport;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.libmilter.PythonMilter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The session against real libmilter milters (Debian's python3-milter), in protocol versions 6 and 2. */
class ServerSessionLibmilterTest {
    private static final Duration WAIT = Duration.ofSeconds(SessionTesting.GUARD_SECONDS);
    private static EventLoopGroup group;

    /** The protocol steps in order, with the python callback name and the command that triggers it. */
    enum Stage {
        CONNECT("connect", CommandType.CONNECT,
                new Command.Connect("mx.example.net", SocketFamily.INET, 50443, "192.0.2.1")),
        HELO("helo", CommandType.HELO, new Command.Helo("client.example.net")),
        UNKNOWN("unknown", CommandType.UNKNOWN, new Command.Unknown("HELP")),
        ENVELOPE_FROM("envfrom", CommandType.ENVELOPE_FROM,
                new Command.EnvelopeFrom("<sender@example.com>", List.of("SIZE=1024"))),
        ENVELOPE_RECIPIENT("envrcpt", CommandType.ENVELOPE_RECIPIENT,
                new Command.EnvelopeRecipient("<rcpt@example.org>")),
        DATA("data", CommandType.DATA, Command.Data.INSTANCE),
        HEADER("header", CommandType.HEADER, new Command.Header("Subject", "Hello")),
        END_OF_HEADER("eoh", CommandType.END_OF_HEADER, Command.EndOfHeader.INSTANCE),
        BODY("body", CommandType.BODY, null),
        END_OF_MESSAGE("eom", CommandType.END_OF_MESSAGE, null);

        final String python;
        final CommandType type;
        final Command command;

        Stage(String python, CommandType type, Command command) {
            this.python = python;
            this.type = type;
            this.command = command;
        }
    }

    @BeforeAll
    static void startLoop() {
        group = SessionTesting.newGroup();
    }

    @AfterAll
    static void stopLoop() throws InterruptedException {
        SessionTesting.shutdown(group);
    }

    @BeforeEach
    void needPythonMilter() {
        PythonMilter.assumeAvailable();
    }

    private static ServerSession connect(PythonMilter milter) {
        return await(ServerSession.connect(ServerOptions.of(milter.spec(), "python"), group.next(),
                Transport.best()));
    }

    /** Sends the stage's command (a small body for body, plain end of message for end of message). */
    private static Reply send(ServerSession session, Stage stage) {
        if (stage == Stage.BODY) {
            return await(session.send(body("Hello, world!\r\n")));
        }
        if (stage == Stage.END_OF_MESSAGE) {
            return await(session.endOfMessage(null, null));
        }
        return await(session.send(stage.command));
    }

    /** Sends every stage before {@code target} (unknown only when it is the target), expecting continue. */
    private static void sendUpTo(ServerSession session, Stage target) {
        for (Stage stage : Stage.values()) {
            if (stage == target) {
                return;
            }
            if (stage == Stage.UNKNOWN) {
                continue;
            }
            assertEquals(Reply.Continue.INSTANCE, send(session, stage), stage + " before " + target);
        }
    }

    private static Command.Body body(String text) {
        return new Command.Body(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    /** Every answer libmilter can give, at every stage; the milter gives the Nth answer to the Nth session. */
    @ParameterizedTest
    @EnumSource(Stage.class)
    void everyReplyAtEveryStage(Stage stage) {
        List<String[]> answers = new ArrayList<>(List.of(
                new String[] {"continue"}, new String[] {"accept"}, new String[] {"reject"},
                new String[] {"tempfail"}, new String[] {"discard"},
                new String[] {"reply", "550", "5.7.1", "go away"},
                new String[] {"reply", "451", "4.7.1", "try later"}));
        List<Reply> expected = new ArrayList<>(List.of(Reply.Continue.INSTANCE, Reply.Accept.INSTANCE,
                Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE, Reply.Discard.INSTANCE,
                new Reply.ReplyCode("550 5.7.1 go away"), new Reply.ReplyCode("451 4.7.1 try later")));
        if (stage == Stage.BODY) {
            answers.add(new String[] {"skip"});
            expected.add(Reply.Skip.INSTANCE);
        }
        PythonMilter.Builder builder = PythonMilter.builder().protocol("SKIP");
        for (int i = 0; i < answers.size(); i++) {
            builder.reply(stage.python + "@" + (i + 1), answers.get(i));
        }
        try (PythonMilter milter = builder.start()) {
            for (int i = 0; i < answers.size(); i++) {
                ServerSession session = connect(milter);
                Option option = await(session.negotiate(Option.offer(6)));
                assertEquals(6, option.version());
                sendUpTo(session, stage);
                assertEquals(expected.get(i), send(session, stage),
                        String.join(" ", answers.get(i)) + " at " + stage + "\n" + milter.diagnostics());
                assertEquals(ServerState.of(stage.type), await(SessionTesting.onLoop(session, session::state)));
                await(session.quit());
            }
        }
    }

    @Test
    void version2OfferGetsAVersion2MilterThatIsNeverSentDataOrUnknown() {
        try (PythonMilter milter = PythonMilter.builder().reply("envrcpt#2", "reject").start()) {
            ServerSession session = connect(milter);
            Option option = await(session.negotiate(Option.offer(2)));
            assertEquals(2, option.version());
            assertEquals(0, option.actions() & ~ActionFlags.V2_MASK, "actions within version 2");
            assertTrue(option.has(ProtocolFlags.NO_DATA) && option.has(ProtocolFlags.NO_UNKNOWN));
            for (Stage stage : Stage.values()) {
                assertEquals(Reply.Continue.INSTANCE, send(session, stage), stage.toString());
            }
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.ENVELOPE_FROM), "second message");
            assertEquals(Reply.Reject.INSTANCE, send(session, Stage.ENVELOPE_RECIPIENT), "second recipient");
            await(session.abort());
            await(session.quit());
            milter.awaitLine("EVENT close", WAIT);
            List<String> events = milter.events();
            assertTrue(events.contains("eom"), events.toString());
            assertFalse(events.stream().anyMatch(e -> e.startsWith("data") || e.startsWith("unknown")),
                    events.toString());
        }
    }

    @Test
    void everyModificationIsDeliveredInOrder() {
        PythonMilter.Builder builder = PythonMilter.builder()
                .eom("addheader", "X-Added", "yes")
                .eom("insheader", "0", "X-First", "first")
                .eom("chgheader", "Subject", "1", "changed")
                .eom("chgheader", "X-Remove", "1", "")
                .eom("addrcpt", "<added@example.org>")
                .eom("addrcpt", "<par@example.org>", "NOTIFY=NEVER")
                .eom("delrcpt", "<rcpt@example.org>")
                .eom("chgfrom", "<new-from@example.org>", "SIZE=100")
                .eom("replacebody", "New body\r\n")
                .eom("quarantine", "suspicious")
                .eom("progress")
                .reply("eom", "accept");
        try (PythonMilter milter = builder.start()) {
            ServerSession session = connect(milter);
            await(session.negotiate(Option.offer(6)));
            sendUpTo(session, Stage.END_OF_MESSAGE);
            List<String> seen = new CopyOnWriteArrayList<>();
            Reply last = await(session.endOfMessage(null, reply -> seen.add(
                    reply instanceof Reply.ReplaceBody body
                            ? "ReplaceBody[" + body.content().toString(StandardCharsets.ISO_8859_1) + "]"
                            : reply.toString())));
            assertEquals(Reply.Accept.INSTANCE, last);
            assertEquals(List.of(
                    new Reply.AddHeader("X-Added", "yes").toString(),
                    new Reply.InsertHeader(0, "X-First", "first").toString(),
                    new Reply.ChangeHeader(1, "Subject", "changed").toString(),
                    new Reply.ChangeHeader(1, "X-Remove", "").toString(),
                    new Reply.AddRecipient("<added@example.org>").toString(),
                    new Reply.AddRecipientWithParameters("<par@example.org>", "NOTIFY=NEVER").toString(),
                    new Reply.DeleteRecipient("<rcpt@example.org>").toString(),
                    new Reply.ChangeFrom("<new-from@example.org>", "SIZE=100").toString(),
                    "ReplaceBody[New body\r\n]",
                    new Reply.Quarantine("suspicious").toString(),
                    Reply.Progress.INSTANCE.toString()), seen);
            await(session.quit());
        }
    }

    @Test
    void version2ModificationsAndAReplacedBodyLargerThanOnePacket() {
        PythonMilter.Builder builder = PythonMilter.builder()
                .eom("addheader", "X-Added", "yes")
                .eom("chgheader", "Subject", "1", "changed")
                .eom("addrcpt", "<added@example.org>")
                .eom("delrcpt", "<rcpt@example.org>")
                .eom("replacebody-bytes", "70000")
                .eom("quarantine", "held");
        try (PythonMilter milter = builder.start()) {
            ServerSession session = connect(milter);
            Option option = await(session.negotiate(Option.offer(2)));
            assertEquals(2, option.version());
            sendUpTo(session, Stage.END_OF_MESSAGE);
            List<String> seen = new CopyOnWriteArrayList<>();
            int[] replaced = new int[1];
            Reply last = await(session.endOfMessage(null, reply -> {
                if (reply instanceof Reply.ReplaceBody body) {
                    replaced[0] += body.content().readableBytes();
                    seen.add("replace-body");
                } else {
                    seen.add(reply.type().nick());
                }
            }));
            assertEquals(Reply.Continue.INSTANCE, last);
            assertEquals(List.of("add-header", "change-header", "add-recipient", "delete-recipient",
                    "replace-body", "replace-body", "quarantine"), seen);
            assertEquals(70000, await(SessionTesting.onLoop(session, () -> replaced[0])));
            await(session.quit());
        }
    }

    @Test
    void macrosAreFilteredToTheMilterRequestedList() {
        PythonMilter.Builder builder = PythonMilter.builder()
                .symlist("connect", "j")
                .macros("connect", "j", "{daemon_name}")
                .macros("helo", "{tls_version}", "{cipher}");
        try (PythonMilter milter = builder.start()) {
            ServerSession session = connect(milter);
            Option option = await(session.negotiate(Option.offer(6)));
            assertEquals(List.of("j"), option.macroRequest(MacroStage.CONNECT));
            await(session.sendMacros(new Command.DefineMacro(CommandType.CONNECT,
                    Map.of("j", "mx.example.com", "{daemon_name}", "test-mta"))));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.CONNECT));
            await(session.sendMacros(new Command.DefineMacro(CommandType.HELO,
                    Map.of("{tls_version}", "TLSv1.3", "{cipher}", "TLS_AES_256_GCM_SHA384"))));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.HELO));
            milter.awaitLine("MACRO connect j=mx.example.com", WAIT);
            milter.awaitLine("MACRO connect {daemon_name}=<none>", WAIT);
            milter.awaitLine("MACRO helo {tls_version}=TLSv1.3", WAIT);
            milter.awaitLine("MACRO helo {cipher}=TLS_AES_256_GCM_SHA384", WAIT);
            await(session.quit());
        }
    }

    @Test
    void noReplyStepsCompleteWhenWritten() {
        PythonMilter.Builder builder = PythonMilter.builder()
                .protocol("NR_CONN|NR_HELO|NR_MAIL|NR_RCPT|NR_DATA|NR_HDR|NR_EOH|NR_BODY|NR_UNKN");
        for (String stage : List.of("connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body",
                "unknown")) {
            builder.reply(stage, "noreply");
        }
        try (PythonMilter milter = builder.start()) {
            ServerSession session = connect(milter);
            Option option = await(session.negotiate(Option.offer(6)));
            assertEquals(ProtocolFlags.NO_REPLY_MASK, option.protocol() & ProtocolFlags.NO_REPLY_MASK,
                    ProtocolFlags.toString(option.protocol()));
            for (Stage stage : Stage.values()) {
                if (stage != Stage.END_OF_MESSAGE) {
                    assertEquals(Reply.Continue.INSTANCE, send(session, stage), stage.toString());
                    assertFalse(await(SessionTesting.onLoop(session, session::isProcessing)), stage.toString());
                }
            }
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.END_OF_MESSAGE));
            await(session.quit());
            milter.awaitLine("EVENT close", WAIT);
            assertEquals(List.of("connect", "helo", "unknown", "envfrom", "envrcpt", "data", "header", "eoh",
                    "body", "eom", "close"), milter.events().stream().skip(1).map(e -> e.split(" ")[0]).toList());
        }
    }

    @Test
    void skipStopsTheBodyUntilTheNextMessage() {
        try (PythonMilter milter = PythonMilter.builder().protocol("SKIP").reply("body#1", "skip").start()) {
            ServerSession session = connect(milter);
            Option option = await(session.negotiate(Option.offer(6)));
            assertTrue(option.has(ProtocolFlags.SKIP));
            sendUpTo(session, Stage.BODY);
            assertEquals(Reply.Skip.INSTANCE, await(session.send(body("chunk 1\r\n"))));
            assertEquals(Reply.Skip.INSTANCE, await(session.send(body("chunk 2\r\n"))));
            await(session.sendMacros(new Command.DefineMacro(CommandType.BODY, Map.of("i", "ABC"))));
            assertEquals(Reply.Skip.INSTANCE, await(session.send(body("chunk 3\r\n"))));
            assertEquals(Reply.Continue.INSTANCE, await(session.endOfMessage(null, null)));
            // A new message wants its body again.
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.ENVELOPE_FROM));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.ENVELOPE_RECIPIENT));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.DATA));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.END_OF_HEADER));
            assertEquals(Reply.Continue.INSTANCE, await(session.send(body("second message\r\n"))));
            await(session.abort());
            await(session.quit());
            milter.awaitLine("EVENT close", WAIT);
            assertEquals(List.of("body 9", "body 16"),
                    milter.events().stream().filter(e -> e.startsWith("body")).toList());
        }
    }

    @Test
    void noBodyMilterIsNeverSentTheBody() {
        try (PythonMilter milter = PythonMilter.builder().protocol("NOBODY|NOHDRS").start()) {
            ServerSession session = connect(milter);
            await(session.negotiate(Option.offer(6)));
            sendUpTo(session, Stage.HEADER);
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.HEADER));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.END_OF_HEADER));
            assertEquals(Reply.Skip.INSTANCE, await(session.send(body("ignored\r\n"))));
            assertEquals(Reply.Continue.INSTANCE, await(session.endOfMessage(null, null)));
            await(session.quit());
            milter.awaitLine("EVENT close", WAIT);
            assertFalse(milter.events().stream().anyMatch(e -> e.startsWith("body") || e.startsWith("header")),
                    milter.events().toString());
        }
    }

    @Test
    void bodyLargerThanOnePacketIsSplit() {
        try (PythonMilter milter = PythonMilter.builder().start()) {
            ServerSession session = connect(milter);
            await(session.negotiate(Option.offer(6)));
            sendUpTo(session, Stage.BODY);
            byte[] bytes = new byte[150_000];
            assertEquals(Reply.Continue.INSTANCE, await(session.send(new Command.Body(Unpooled.wrappedBuffer(bytes)))));
            assertEquals(Reply.Continue.INSTANCE, await(session.endOfMessage(null, null)));
            await(session.quit());
            milter.awaitLine("EVENT close", WAIT);
            assertEquals(List.of("body 65535", "body 65535", "body 18930"),
                    milter.events().stream().filter(e -> e.startsWith("body")).toList());
        }
    }

    @Test
    void abortThenQuitNewConnectionThenASecondSmtpSession() {
        try (PythonMilter milter = PythonMilter.builder().inet().start()) {
            ServerSession session = connect(milter);
            await(session.negotiate(Option.offer(6)));
            sendUpTo(session, Stage.HEADER);
            await(session.abort());
            milter.awaitLine("EVENT abort", WAIT);
            // After abort the next message starts with MAIL (libmilter silently ignores commands out of order,
            // so every step of the grammar is sent); after a finished message the socket can be reused.
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.ENVELOPE_FROM));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.ENVELOPE_RECIPIENT));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.DATA));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.END_OF_HEADER));
            assertEquals(Reply.Continue.INSTANCE, await(session.endOfMessage(null, null)));
            await(session.quitNewConnection());
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.CONNECT));
            assertEquals(Reply.Continue.INSTANCE, send(session, Stage.HELO));
            await(session.quit());
            milter.awaitCount("EVENT close", 2, WAIT);
            assertEquals(2, milter.events().stream().filter(e -> e.startsWith("connect")).count());
            assertTrue(await(SessionTesting.onLoop(session, () -> session.waitingTime().toNanos())) > 0);
        }
    }
}
