package milter.client.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import milter.client.MilterClient;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MilterTestClientTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private MilterClient launch(String... args) {
        MilterTestClient.Launch launch = MilterTestClient.launch(args, Map.of(), out);
        assertNotNull(launch.client(), output());
        return launch.client();
    }

    @Test
    void reportsRequestsInUpstreamFormatAndFollowsTheScript() throws Exception {
        MilterClient client = launch("-s", "inet:0@[127.0.0.1]", "--n-sessions=1", "--threads=1",
                "--reply-envelope-recipient=<bad@example.com>:reject",
                "--reply-envelope-recipient=<tmp@example.com>:451 4.7.1 Try later",
                "--reply-header=X-Spam:discard",
                "--negotiate-flags=no-reply-end-of-header|skip", "--negotiate-macros=connect:j {daemon_name}",
                "--add-header=X-Test:yes", "--insert-header=0:X-First:1", "--change-header=1:Subject:[x] Hi",
                "--delete-header=2:Received", "--add-recipient=<new@example.com>",
                "--add-recipient=<par@example.com> NOTIFY=NEVER", "--delete-recipient=<old@example.com>",
                "--change-from=<bounce@example.com> SIZE=10", "--replace-body=New body\r\n",
                "--quarantine=held", "--progress=1", "--reply-end-of-message=accept");
        try (FakeMta mta = FakeMta.connect(client.boundAddress()).timeout(Duration.ofSeconds(20))) {
            Option reply = mta.negotiate(Option.offer(6));
            assertEquals(ActionFlags.ALL, reply.actions());
            assertEquals(ProtocolFlags.NO_REPLY_END_OF_HEADER | ProtocolFlags.SKIP, reply.protocol());
            assertEquals(List.of("j", "{daemon_name}"), reply.macroRequest(MacroStage.CONNECT));
            mta.send(new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "mx.example.com")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Connect("mail.example.org",
                    SocketFamily.INET6, 25, "IPv6:2001:db8::1")));
            mta.call(new Command.Helo("client.example.net"));
            mta.call(new Command.EnvelopeFrom("<a@example.com>"));
            assertInstanceOf(Reply.Reject.class, mta.call(new Command.EnvelopeRecipient("<bad@example.com>")));
            assertEquals(new Reply.ReplyCode("451 4.7.1 Try later"),
                    mta.call(new Command.EnvelopeRecipient("<tmp@example.com>")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeRecipient("<ok@example.com>")));
            mta.call(Command.Data.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Header("Subject", "Hi")));
            mta.send(Command.EndOfHeader.INSTANCE);
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Body(Unpooled.copiedBuffer("Hello\r\n",
                    StandardCharsets.ISO_8859_1))));
            List<Reply> end = mta.endOfMessage();
            assertEquals(List.of(Reply.Progress.INSTANCE, new Reply.AddHeader("X-Test", "yes"),
                    new Reply.InsertHeader(0, "X-First", "1"), new Reply.ChangeHeader(1, "Subject", "[x] Hi"),
                    new Reply.ChangeHeader(2, "Received", ""), new Reply.AddRecipient("<new@example.com>"),
                    new Reply.AddRecipientWithParameters("<par@example.com>", "NOTIFY=NEVER"),
                    new Reply.DeleteRecipient("<old@example.com>"),
                    new Reply.ChangeFrom("<bounce@example.com>", "SIZE=10")), end.subList(0, 9));
            Reply.ReplaceBody body = assertInstanceOf(Reply.ReplaceBody.class, end.get(9));
            assertEquals("New body\r\n", body.content().toString(StandardCharsets.ISO_8859_1));
            assertEquals(List.of(new Reply.Quarantine("held"), Reply.Accept.INSTANCE), end.subList(10, 12));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
        }
        // One session asked for: the tool stops by itself.
        client.closeFuture().toCompletableFuture().get(20, TimeUnit.SECONDS);
        String expected = String.join("\n",
                "negotiate: version=<6>, action=<" + ActionFlags.toString(ActionFlags.ALL) + ">, step=<"
                        + ProtocolFlags.toString(ProtocolFlags.ALL) + ">",
                "connect: host=<mail.example.org>, address=<inet6:25@[2001:db8::1]>",
                "macros:",
                "  j=mx.example.com",
                "helo: <client.example.net>",
                "macros:",
                "  j=mx.example.com",
                "envelope-from: <<a@example.com>>",
                "macros:",
                "  j=mx.example.com",
                "envelope-recipient: <<bad@example.com>>",
                "macros:",
                "  j=mx.example.com",
                "envelope-recipient: <<tmp@example.com>>",
                "macros:",
                "  j=mx.example.com",
                "envelope-recipient: <<ok@example.com>>",
                "macros:",
                "  j=mx.example.com",
                "data",
                "macros:",
                "  j=mx.example.com",
                "header: <Subject: Hi>",
                "macros:",
                "  j=mx.example.com",
                "end-of-header",
                "macros:",
                "  j=mx.example.com",
                "body: <Hello\r\n>",
                "macros:",
                "  j=mx.example.com",
                "end-of-message",
                "macros:",
                "  j=mx.example.com",
                "finished",
                "");
        assertEquals(expected, output());
    }

    @Test
    void quietPrintsNothingAndDelaysUseTimers() throws Exception {
        MilterClient client = launch("-s", "inet:0@[127.0.0.1]", "--quiet", "--threads=1",
                "--delay-connect=0.2", "--reply-connect=tempfail", "--n-sessions=2");
        try {
            for (int i = 0; i < 2; i++) {
                try (FakeMta mta = FakeMta.connect(client.boundAddress()).timeout(Duration.ofSeconds(20))) {
                    mta.negotiate(Option.offer(2));
                    assertInstanceOf(Reply.TemporaryFailure.class, mta.call(new Command.Connect("h",
                            SocketFamily.UNKNOWN, 0, null)));
                }
            }
            client.closeFuture().toCompletableFuture().get(20, TimeUnit.SECONDS);
            assertEquals("", output());
        } finally {
            client.close();
        }
    }

    @Test
    void listensOnUnixSocketWithPidFileAndDeprecatedGroupOption() throws Exception {
        Path socket = dir.resolve("test-client.sock");
        Path pid = dir.resolve("test-client.pid");
        String group = Files.readAttributes(dir, java.nio.file.attribute.PosixFileAttributes.class).group()
                .getName();
        try (milter.client.LogCaptureAccess log = new milter.client.LogCaptureAccess()) {
            MilterClient client = launch("-s", "unix:" + socket, "--unix-socket-mode=600",
                    "--socket-group-name=" + group, "--pid-file=" + pid, "--no-report-request", "--threads=1");
            try (FakeMta mta = FakeMta.connect("unix:" + socket)) {
                assertEquals(2, mta.negotiate(Option.offer(2)).version());
                assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(pid));
                assertTrue(log.has("[client][option][deprecated][--socket-group-name] use --unix-socket-group"
                        + " instead"));
                assertTrue(log.has("[client][socket][unix][mode][change] <0600>"));
                assertTrue(log.has("[client][socket][unix][group][change] <" + group + ">"));
            } finally {
                client.close();
            }
        }
    }

    @Test
    void helpDocumentsEveryOption() {
        MilterTestClient.Launch launch = MilterTestClient.launch(new String[] {"--help"}, Map.of(), out);
        assertEquals(0, launch.exitStatus());
        assertNull(launch.client());
        for (picocli.CommandLine.Model.OptionSpec option : new picocli.CommandLine(new MilterTestClient(Map.of(), out))
                .getCommandSpec().options()) {
            assertTrue(output().contains(option.longestName()), option.longestName());
            assertTrue(option.description().length > 0 && !option.description()[0].isBlank(), option.longestName());
        }
        assertTrue(output().contains("--reply-end-of-message"));
    }

    @Test
    void badOptionsAndDefaultSpecErrorsExitWithStatusOne() throws Exception {
        assertEquals(1, MilterTestClient.launch(new String[] {"--no-such-option"}, Map.of(), out).exitStatus());
        assertTrue(output().contains("Unknown option: '--no-such-option'"));
        assertEquals(1, MilterTestClient.launch(new String[] {"--reply-connect=maybe"}, Map.of(), out)
                .exitStatus());
        assertTrue(output().contains("unknown status: <maybe>"));
        try (milter.client.LogCaptureAccess log = new milter.client.LogCaptureAccess()) {
            assertEquals(1, MilterTestClient.launch(new String[0],
                    Map.of("MILTER_DEFAULT_CONNECTION_SPEC", "bogus"), out).exitStatus());
            assertTrue(log.has("[client][connection-spec][default][error] <bogus>"));
            MilterTestClient.Launch launch = MilterTestClient.launch(new String[] {"--threads=1"},
                    Map.of("MILTER_DEFAULT_CONNECTION_SPEC", "inet:0@[127.0.0.1]"), out);
            try {
                assertNotNull(launch.client());
                assertTrue(log.has("[client][connection-spec][default] <inet:0@[127.0.0.1]>"));
            } finally {
                launch.client().close();
            }
        }
        MilterClient first = launch("-s", "inet:0@[127.0.0.1]", "--threads=1");
        try (milter.client.LogCaptureAccess log = new milter.client.LogCaptureAccess()) {
            int port = ((java.net.InetSocketAddress) first.boundAddress()).getPort();
            assertEquals(1, MilterTestClient.launch(new String[] {"-s", "inet:" + port + "@[127.0.0.1]"}, Map.of(),
                    out).exitStatus());
            assertTrue(log.has("[client][main][error] failed to listen: <inet:" + port + "@[127.0.0.1]>"));
        } finally {
            first.close();
        }
        assertEquals(0, MilterTestClient.launch(new String[] {"--version"}, Map.of(), out).exitStatus());
        assertTrue(output().contains(MilterTestClient.VERSION));
    }
}
