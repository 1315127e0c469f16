package milter.server;

import static milter.server.FaultMilter.cstrings;
import static milter.server.SessionTesting.await;
import static milter.server.SessionTesting.awaitFailure;
import static milter.server.SessionTesting.millis;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The session against peers that break the protocol, stall or vanish: every fault has a typed, logged outcome. */
class ServerSessionFaultTest {
    private static final Command.Connect CONNECT = new Command.Connect("mx.example.net", SocketFamily.INET, 50443,
            "192.0.2.1");
    private static final Command.Helo HELO = new Command.Helo("client.example.net");
    private static EventLoopGroup group;

    @BeforeAll
    static void startLoop() {
        group = SessionTesting.newGroup();
    }

    @AfterAll
    static void stopLoop() throws InterruptedException {
        SessionTesting.shutdown(group);
    }

    /** Answers negotiation with v6, every action, no protocol flags; then runs {@code rest}. */
    private static FaultMilter milter(FaultMilter.Script rest) throws IOException {
        return new FaultMilter(peer -> {
            peer.negotiate(6, ActionFlags.ALL, 0);
            rest.run(peer);
        });
    }

    private static ServerSession negotiated(FaultMilter milter, ServerOptions options) {
        ServerSession session = await(ServerSession.connect(options, group.next(), Transport.best()));
        await(session.negotiate(Option.offer(6)));
        return session;
    }

    private static ServerSession negotiated(FaultMilter milter) {
        return negotiated(milter, SessionTesting.options(milter.spec()));
    }

    @Test
    void readingTimeoutFailsTheReplyAndCloses() throws Exception {
        try (FaultMilter milter = new FaultMilter(FaultMilter.Peer::drain)) {
            ServerSession session = await(ServerSession.connect(
                    SessionTesting.options(milter.spec()).withReadingTimeout(millis(200)), group.next(),
                    Transport.best()));
            MilterTimeoutException e = awaitFailure(session.negotiate(Option.offer(6)), MilterTimeoutException.class);
            assertEquals(TimeoutKind.READING, e.kind());
            assertEquals("negotiate", e.state());
            await(session.closeFuture());
            assertTrue(await(session.send(HELO).handle((r, t) -> t)) instanceof MilterTimeoutException,
                    "later sends fail with the same error");
        }
    }

    @Test
    void endOfMessageTimeoutAfterContinueReplies() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('C');
            peer.reply('c');
            peer.drain();
        })) {
            ServerSession session = negotiated(milter,
                    SessionTesting.options(milter.spec()).withEndOfMessageTimeout(millis(200)));
            assertEquals(Reply.Continue.INSTANCE, await(session.send(CONNECT)));
            MilterTimeoutException e = awaitFailure(session.endOfMessage(null, null), MilterTimeoutException.class);
            assertEquals(TimeoutKind.END_OF_MESSAGE, e.kind());
            assertEquals("end-of-message", e.state());
            await(session.closeFuture());
        }
    }

    @Test
    void progressRestartsTheEndOfMessageTimer() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('E');
            for (int i = 0; i < 3; i++) {
                peer.reply('p');
                // Each gap is well inside the timeout; together they exceed it.
                Thread.sleep(250);
            }
            peer.reply('a');
            peer.drain();
        })) {
            ServerSession session = negotiated(milter,
                    SessionTesting.options(milter.spec()).withEndOfMessageTimeout(millis(600)));
            List<Reply> seen = new CopyOnWriteArrayList<>();
            assertEquals(Reply.Accept.INSTANCE, await(session.endOfMessage(null, seen::add)));
            assertEquals(List.of(Reply.Progress.INSTANCE, Reply.Progress.INSTANCE, Reply.Progress.INSTANCE), seen);
            await(session.quit());
        }
    }

    @Test
    void writingTimeoutWhenTheMilterStopsReading() throws Exception {
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(6, 0, ProtocolFlags.NO_REPLY_BODY);
            // Read nothing more: the kernel buffers fill up and the body cannot be written.
            peer.hold();
        })) {
            ServerSession session = negotiated(milter,
                    SessionTesting.options(milter.spec()).withWritingTimeout(millis(300)));
            ByteBuf body = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(64 * 1024 * 1024));
            MilterTimeoutException e = awaitFailure(session.send(new Command.Body(body)),
                    MilterTimeoutException.class);
            assertEquals(TimeoutKind.WRITING, e.kind());
            assertEquals("body", e.state());
            await(session.closeFuture());
        }
    }

    @Test
    void connectionTimeoutWhenTheListenBacklogIsFull() throws Exception {
        try (FullBacklog backlog = new FullBacklog(); LogCapture log = new LogCapture()) {
            ServerOptions options = SessionTesting.options(backlog.spec()).withConnectionTimeout(millis(200));
            MilterTimeoutException e = awaitFailure(
                    ServerSession.connect(options, group.next(), Transport.best()), MilterTimeoutException.class);
            assertEquals(TimeoutKind.CONNECTION, e.kind());
            assertEquals("start", e.state());
            assertTrue(log.require("[server][timeout][connection]").startsWith("ERROR"));
        }
    }

    @Test
    void refusedConnectionIsAConnectError() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        ConnectionSpec spec = ConnectionSpec.parse("inet:" + port + "@127.0.0.1");
        try (LogCapture log = new LogCapture()) {
            MilterConnectException e = awaitFailure(
                    ServerSession.connect(SessionTesting.options(spec), group.next(), Transport.best()),
                    MilterConnectException.class);
            assertTrue(e.getMessage().startsWith("Failed to connect to " + spec + ": "), e.getMessage());
            String line = log.require("[server][error][connect]");
            assertTrue(line.contains("[test-milter] Failed to connect to " + spec), line);
        }
    }

    @Test
    void missingUnixSocketIsAConnectError() throws Exception {
        Path directory = Files.createTempDirectory("no-milter");
        try {
            ConnectionSpec spec = ConnectionSpec.parse("unix:" + directory.resolve("absent.sock"));
            MilterConnectException e = awaitFailure(
                    ServerSession.connect(SessionTesting.options(spec), group.next(), Transport.best()),
                    MilterConnectException.class);
            assertTrue(e.getMessage().contains("absent.sock"), e.getMessage());
        } finally {
            Files.deleteIfExists(directory);
        }
    }

    @Test
    void replyIllegalForTheStateIsAProtocolError() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('C');
            peer.reply('h', cstrings("X-Early", "yes"));
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterProtocolException e = awaitFailure(session.send(CONNECT), MilterProtocolException.class);
            assertEquals("connect", e.state());
            String line = log.require("[server][error][add-header][state][invalid][connect]");
            assertTrue(line.startsWith("ERROR"), line);
            assertTrue(line.contains("<add-header> should be caused on <end-of-message> but was <connect>"), line);
            assertTrue(line.contains("expected one of <continue, accept, reject, temporary-failure, discard,"
                    + " reply-code, connection-failure, shutdown>"), line);
            await(session.closeFuture());
        }
    }

    @Test
    void replyWhenNoneIsOutstandingIsAProtocolError() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.reply('c');
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            await(session.closeFuture());
            MilterProtocolException e = assertInstanceOf(MilterProtocolException.class,
                    await(SessionTesting.onLoop(session, session::failure)));
            assertEquals("negotiate", e.state());
            String line = log.require("[server][error][continue][state][invalid][negotiate]");
            assertTrue(line.contains("no reply was expected"), line);
        }
    }

    @Test
    void skipWithoutNegotiatedSkipIsAProtocolError() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('B');
            peer.reply('s');
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            awaitFailure(session.send(new Command.Body(Unpooled.copiedBuffer(new byte[10]))),
                    MilterProtocolException.class);
            log.require("[server][error][skip][state][invalid][body]");
        }
    }

    @Test
    void garbageIsADecodeError() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('H');
            peer.raw(new byte[] {0, 0, 0, 1, 'Z'});
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterProtocolException e = awaitFailure(session.send(HELO), MilterProtocolException.class);
            assertEquals("helo", e.state());
            String line = log.require("[agent][error][decode]");
            assertTrue(line.contains("unexpected reply was received: 'Z'"), line);
            await(session.closeFuture());
        }
    }

    @Test
    void peerClosingWhileAReplyIsDueFailsWithClosed() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('H');
            peer.close();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterClosedException e = awaitFailure(session.send(HELO), MilterClosedException.class);
            assertEquals("helo", e.state());
            log.require("[server][error][closed]");
            await(session.closeFuture());
        }
    }

    @Test
    void connectionResetWhileAReplyIsDueIsAReadError() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('H');
            peer.reset();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterClosedException e = awaitFailure(session.send(HELO), MilterClosedException.class);
            assertEquals("helo", e.state());
            String line = log.require("[agent][error][reader]");
            assertTrue(line.contains("Connection reset"), line);
            await(session.closeFuture());
        }
    }

    @Test
    void peerClosingWithNothingOutstandingCompletesTheCloseFuture() throws Exception {
        try (FaultMilter milter = milter(FaultMilter.Peer::close)) {
            ServerSession session = negotiated(milter);
            await(session.closeFuture());
            awaitFailure(session.send(HELO), MilterClosedException.class);
        }
    }

    @Test
    void unsentBodyRemainsWhenThePeerHangsUpMidBody() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('B');
            peer.close();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            awaitFailure(session.send(new Command.Body(Unpooled.wrappedBuffer(new byte[150_000]))),
                    MilterClosedException.class);
            String line = log.require("[server][dispose][body][remained]");
            assertTrue(line.contains("84465 bytes"), line);
        }
    }

    @Test
    void repliesAfterQuitAreLoggedAndIgnored() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('Q');
            peer.reply('c');
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            await(session.quit());
            String line = log.require("[server][reply][quitted][quit][continue]");
            assertTrue(line.startsWith("WARN"), line);
            assertEquals(null, await(SessionTesting.onLoop(session, session::failure)));
        }
    }

    @Test
    void shutdownAndConnectionFailureAreDeliveredAsReplies() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('C');
            peer.reply('4');
            peer.expect('H');
            peer.reply('f');
            peer.drain();
        })) {
            ServerSession session = negotiated(milter);
            assertEquals(Reply.Shutdown.INSTANCE, await(session.send(CONNECT)));
            assertEquals(Reply.ConnectionFailure.INSTANCE, await(session.send(HELO)));
            assertEquals("error", await(SessionTesting.onLoop(session, () -> session.lastStatus().nick())));
            await(session.quit());
        }
    }

    @Test
    void modificationThatWasNotNegotiatedIsAProtocolError() throws Exception {
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(6, ActionFlags.CHANGE_BODY, 0);
            peer.expect('E');
            peer.reply('h', cstrings("X-Sneaky", "1"));
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterProtocolException e = awaitFailure(session.endOfMessage(null, null), MilterProtocolException.class);
            assertTrue(e.getMessage().contains("<add-header> needs action <add-headers>"), e.getMessage());
            log.require("[server][error][add-header][action][not-negotiated]");
        }
    }

    @Test
    void secondCommandWhileOneIsOutstandingIsRefused() throws Exception {
        try (FaultMilter milter = milter(peer -> {
            peer.expect('C');
            peer.expect('H');
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            CompletionStage<Reply> first = session.send(CONNECT);
            IllegalStateException e = awaitFailure(session.send(HELO), IllegalStateException.class);
            assertEquals("previous command has been processing: connect -> helo", e.getMessage());
            log.require("[server][error] [test-milter] previous command has been processing: connect -> helo");
            assertFalse(first.toCompletableFuture().isDone(), "the first command is still waiting");
            session.close();
            awaitFailure(first, MilterClosedException.class);
        }
    }

    @Test
    void unencodableCommandIsAWriteError() throws Exception {
        try (FaultMilter milter = milter(FaultMilter.Peer::drain); LogCapture log = new LogCapture()) {
            ServerSession session = negotiated(milter);
            MilterServerException e = awaitFailure(session.send(new Command.Helo("bad\0name")),
                    MilterServerException.class);
            assertTrue(e.getMessage().contains("NUL"), e.getMessage());
            log.require("[server][error][write]");
            await(session.closeFuture());
        }
    }

    @Test
    void newerVersionInTheNegotiateReplyIsRefused() throws Exception {
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(7, 0, 0);
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = await(ServerSession.connect(SessionTesting.options(milter.spec()),
                    group.next(), Transport.best()));
            MilterProtocolException e = awaitFailure(session.negotiate(Option.offer(6)),
                    MilterProtocolException.class);
            assertTrue(e.getMessage().contains("unsupported newer version is requested"), e.getMessage());
            log.require("[server][error] [test-milter] unsupported newer version is requested");
        }
    }

    @Test
    void unofferedActionsAreRefusedAndUnofferedProtocolBitsDropped() throws Exception {
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(2, ActionFlags.CHANGE_ENVELOPE_FROM, 0);
            peer.drain();
        })) {
            ServerSession session = await(ServerSession.connect(SessionTesting.options(milter.spec()),
                    group.next(), Transport.best()));
            MilterProtocolException e = awaitFailure(session.negotiate(Option.offer(2)),
                    MilterProtocolException.class);
            assertTrue(e.getMessage().contains("conflict with offered actions"), e.getMessage());
        }
        try (FaultMilter milter = new FaultMilter(peer -> {
            peer.negotiate(2, ActionFlags.ADD_HEADERS, ProtocolFlags.NO_HELO | ProtocolFlags.NO_REPLY_BODY);
            peer.drain();
        }); LogCapture log = new LogCapture()) {
            ServerSession session = await(ServerSession.connect(SessionTesting.options(milter.spec()),
                    group.next(), Transport.best()));
            Option option = await(session.negotiate(Option.offer(2)));
            assertEquals(ProtocolFlags.NO_HELO | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.NO_DATA, option.protocol());
            String line = log.require("[server][negotiate][protocol][ignored]");
            assertTrue(line.contains("no-reply-body"), line);
            session.close();
        }
    }

    @Test
    void commandsBeforeNegotiationAreRefused() throws Exception {
        try (FaultMilter milter = new FaultMilter(FaultMilter.Peer::drain)) {
            ServerSession session = await(ServerSession.connect(SessionTesting.options(milter.spec()),
                    group.next(), Transport.best()));
            IllegalStateException e = awaitFailure(session.send(HELO), IllegalStateException.class);
            assertTrue(e.getMessage().contains("before negotiation"), e.getMessage());
            session.close();
            await(session.closeFuture());
        }
    }

    /**
     * A TCP listener that never accepts, with its accept queue filled: a further connect gets no answer to its
     * SYN and stays pending, which is what a connection timeout needs, on loopback.
     */
    private static final class FullBacklog implements AutoCloseable {
        private final ServerSocketChannel server;
        private final List<SocketChannel> fillers = new ArrayList<>();

        FullBacklog() throws IOException {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
            try (Selector selector = Selector.open()) {
                for (int i = 0; i < 64; i++) {
                    SocketChannel client = SocketChannel.open();
                    fillers.add(client);
                    client.configureBlocking(false);
                    if (client.connect(server.getLocalAddress())) {
                        continue;
                    }
                    SelectionKey key = client.register(selector, SelectionKey.OP_CONNECT);
                    // A connect that is not answered within a second means the queue is full.
                    if (selector.select(1000) == 0) {
                        key.cancel();
                        return;
                    }
                    selector.selectedKeys().clear();
                    key.cancel();
                    selector.selectNow();
                    client.finishConnect();
                }
            }
            throw new IllegalStateException("could not fill the listen backlog");
        }

        ConnectionSpec spec() throws IOException {
            InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
            return ConnectionSpec.parse("inet:" + address.getPort() + "@127.0.0.1");
        }

        @Override
        public void close() throws IOException {
            for (SocketChannel filler : fillers) {
                filler.close();
            }
            server.close();
        }
    }
}
