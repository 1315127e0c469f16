package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevel;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

class ProtocolErrorTest {

    @Test
    void illegalCommandIsLoggedAndAnsweredContinueWithoutTheMilter() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(ClientSessionTest.CONNECT);
            assertInstanceOf(Reply.Continue.class, mta.call(Command.EndOfHeader.INSTANCE));
            assertEquals(List.of(Reply.Continue.INSTANCE), mta.endOfMessage());
            assertInstanceOf(Reply.Continue.class, mta.call(ClientSessionTest.CONNECT));
            LogCapture.Line line = log.await("[client][error][end-of-header][state][invalid][connect]");
            assertNotNull(line);
            assertEquals(LogLevel.ERROR, line.level());
            assertTrue(line.text().contains("expected one of [helo, envelope-from, unknown]"), line.text());
            assertTrue(log.has("[client][error][end-of-message][state][invalid][connect]"));
            assertTrue(log.has("[client][error][connect][state][invalid][connect]"));
            // The session goes on.
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("client.example.net")));
        }
        assertEquals(List.of("negotiate 6", "connect mail.example.org", "helo client.example.net", "closed"),
                milter.events());
    }

    @Test
    void illegalCommandClosesTheConnectionUnderTheClosePolicy() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", ScriptedMilter.factory(milter),
                        builder -> builder.illegalCommandPolicy(IllegalCommandPolicy.CLOSE));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.call(ClientSessionTest.CONNECT);
            mta.send(Command.Data.INSTANCE);
            assertTrue(mta.awaitClose());
            assertTrue(mta.unread().isEmpty());
            assertNotNull(log.await("[client][error][data][state][invalid][connect]"));
        }
    }

    @Test
    void commandBeforeNegotiationOrSecondNegotiationClosesTheConnection() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter))) {
            try (FakeMta mta = harness.connect()) {
                mta.send(ClientSessionTest.CONNECT);
                assertTrue(mta.awaitClose());
                assertNotNull(log.await("[client][error][connect][state][invalid][init]"));
            }
            try (FakeMta mta = harness.connect()) {
                mta.negotiate(Option.offer(6));
                mta.send(new Command.Negotiate(Option.offer(6)));
                assertTrue(mta.awaitClose());
                assertNotNull(log.await("[client][error][negotiate][state][invalid][negotiate]"));
            }
        }
    }

    @Test
    void garbageFrameIsADecodeErrorThatClosesTheConnection() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.sendRaw(new byte[] {0, 0, 0, 1, 'Z'});
            assertTrue(mta.awaitClose());
            LogCapture.Line line = log.await("[agent][error][decode]");
            assertNotNull(line);
            assertEquals(LogLevel.ERROR, line.level());
            assertTrue(line.text().startsWith("[" + milter.context.sessionId() + "] [agent][error][decode] Decode error:"
                    + " unexpected-command: unexpected command was received: 'Z'"), line.text());
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void oversizedFrameIsRefusedBeforeBuffering() throws Exception {
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(new ScriptedMilter()));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.sendRaw(new byte[] {0x7F, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 'B'});
            assertTrue(mta.awaitClose());
            assertNotNull(log.await("Decode error: long-length: packet length 2147483647 exceeds the limit of 65536"));
        }
    }

    @Test
    void truncatedFrameAtEndOfStreamIsReported() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter))) {
            try (FakeMta mta = harness.connect()) {
                mta.negotiate(Option.offer(6));
                mta.sendRaw(new byte[] {0, 0, 0, 0x0D, 'L', 'S', 'u', 'b'});
            }
            assertNotNull(log.await("Decode error: unexpected-end: stream is ended unexpectedly"));
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void silentMtaIsDisconnectedAfterTheIdleTimeout() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", ScriptedMilter.factory(milter),
                        builder -> builder.idleTimeout(Duration.ofMillis(300)));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            assertTrue(mta.awaitClose());
            LogCapture.Line line = log.await("[client][timeout]");
            assertNotNull(line);
            assertTrue(line.text().contains("no command from the MTA in 0.3 seconds"), line.text());
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void readErrorIsLogged() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter))) {
            java.net.Socket socket = new java.net.Socket("127.0.0.1",
                    ((java.net.InetSocketAddress) harness.address).getPort());
            try (socket) {
                socket.getOutputStream().write(new byte[] {0, 0, 0, 0x0D, 'O', 0, 0, 0, 6, 0, 0, 1, (byte) 0xFF, 0,
                    0x1F, (byte) 0xFF, (byte) 0xFF});
                socket.getInputStream().readNBytes(17);
                // SO_LINGER 0: close with a reset, which the milter side reads as an error.
                socket.setSoLinger(true, 0);
            }
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
            assertNotNull(log.await("[reader][error][read]"));
        }
    }
}
