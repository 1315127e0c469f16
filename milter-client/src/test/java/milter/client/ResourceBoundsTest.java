package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyDecoder;
import milter.core.log.LogLevel;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * Bounds of one listener against MTAs that misbehave on purpose, over real loopback sockets: an MTA that never
 * reads its replies, one that trickles a frame a byte at a time, and a thousand that connect and hang up at
 * once.
 */
class ResourceBoundsTest {
    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    /**
     * An MTA that pipelines commands and never reads: once the replies waiting for it pass the high water mark
     * the connection pauses (no command read or processed), so what waits in memory stays at the mark plus one
     * reply. When the MTA reads again everything resumes and every command gets its reply.
     */
    @Test
    void anMtaThatDoesNotReadPausesItsConnectionAtTheHighWaterMark() throws Exception {
        int low = 8 * 1024;
        int high = 16 * 1024;
        // 20 MB of replies: more than the socket buffers of both ends can absorb.
        int commands = 5_000;
        String text = "451 4.7.1 " + "x".repeat(4000);
        AtomicReference<Channel> serverSide = new AtomicReference<>();
        MilterFactory factory = context -> {
            serverSide.set(context.channel());
            return new Milter() {
                @Override
                public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
                    return CompletableFuture.completedFuture(new Reply.ReplyCode(text));
                }
            };
        };
        CommandWriter writer = null;
        try (LogCapture log = new LogCapture(LogLevel.INFO.bit()
                | LogLevel.WARNING.bit() | LogLevel.ERROR.bit());
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", factory,
                        b -> b.writeBufferWaterMark(low, high));
                Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096);
            socket.connect(harness.address, 20_000);
            socket.setSoTimeout(30_000);
            byte[] heloBytes = encode(new Command.Helo("mx.example.org"));
            writer = new CommandWriter(socket.getOutputStream(), encode(new Command.Negotiate(Option.offer(6))),
                    encode(new Command.Connect("mx.example.org", SocketFamily.INET, 25,
                            "192.0.2.1")), heloBytes, commands);

            assertNotNull(log.await("[client][write][pause]"), "the connection pauses");
            Channel channel = serverSide.get();
            long pending = channel.eventLoop().submit(() -> {
                ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
                return buffer == null ? 0L : buffer.totalPendingWriteBytes();
            }).get(20, TimeUnit.SECONDS);
            int reply = 5 + text.length() + 1;
            assertTrue(pending > high - reply && pending <= high + reply, "pending " + pending + " bytes");
            assertFalse(channel.eventLoop().submit(() -> channel.config().isAutoRead()).get(20, TimeUnit.SECONDS),
                    "no reading while paused");

            // Now the MTA reads: every command is answered, nothing is lost.
            List<Reply> replies = readReplies(socket.getInputStream(), 2 + commands);
            assertInstanceOf(Reply.Negotiate.class, replies.get(0));
            assertInstanceOf(Reply.Continue.class, replies.get(1));
            for (int i = 2; i < replies.size(); i++) {
                assertEquals(new Reply.ReplyCode(text), replies.get(i));
            }
            assertNotNull(log.await("[client][write][resume]"));
            writer.await();
            LogCapture.Line pause = log.matching("[client][write][pause]").get(0);
            assertEquals(LogLevel.INFO, pause.level());
        } finally {
            if (writer != null) {
                writer.stop();
            }
        }
    }

    /**
     * A slowloris MTA sends a frame one byte every 50 ms, never completing it. Only complete commands count as
     * activity, so the idle timeout (here 1 s) closes the connection although bytes keep arriving.
     */
    @Test
    void anMtaTricklingAFrameIsClosedByTheIdleTimeout() throws Exception {
        ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", context -> new Milter() { },
                        b -> b.idleTimeout(Duration.ofSeconds(1)));
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            // A HELO announcing 2000 bytes: at one byte per 50 ms it would take 100 s to arrive.
            byte[] frame = new byte[2004];
            frame[2] = 0x07;
            frame[3] = (byte) 0xD1;
            frame[4] = 'H';
            int[] next = {0};
            trickle.scheduleAtFixedRate(() -> {
                try {
                    if (next[0] < frame.length) {
                        mta.sendRaw(new byte[] {frame[next[0]++]});
                    }
                } catch (IOException closed) {
                    next[0] = frame.length;
                }
            }, 0, 50, TimeUnit.MILLISECONDS);
            assertTrue(mta.awaitClose(), "closed by the milter");
            LogCapture.Line timeout = log.await("[client][timeout]");
            assertNotNull(timeout);
            assertEquals(LogLevel.WARNING, timeout.level());
        } finally {
            trickle.shutdownNow();
            assertTrue(trickle.awaitTermination(20, TimeUnit.SECONDS));
        }
    }

    /** A thousand connections opened and closed at once leave no session, thread or descriptor behind. */
    @Test
    void aThousandConnectAndCloseLeaveNothingBehind() throws Exception {
        int warmUp = 20;
        int connections = 1000;
        CountDownLatch closed = new CountDownLatch(warmUp + connections);
        MilterFactory factory = context -> new Milter() {
            @Override
            public void closed(ClientContext context) {
                closed.countDown();
            }
        };
        try (LogCapture log = new LogCapture(LogLevel.STATISTICS.bit());
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", factory, b -> { })) {
            InetSocketAddress address = (InetSocketAddress) harness.address;
            connectAndClose(address, warmUp);
            assertNotNull(log.await("[sessions][finished] " + warmUp + "(+1) "));
            long fds = openDescriptors();
            int threads = Thread.activeCount();

            connectAndClose(address, connections);
            assertTrue(closed.await(120, TimeUnit.SECONDS), "every session ended");
            assertNotNull(log.await("[sessions][finished] " + (warmUp + connections) + "(+1) "));
            assertEquals(0, harness.client.processingSessions());
            assertEquals(warmUp + connections, harness.client.finishedSessions());
            long fdsAfter = openDescriptors();
            assertTrue(fdsAfter <= fds + 4, "descriptors before " + fds + ", after " + fdsAfter);
            assertTrue(Thread.activeCount() <= threads + 2, "threads before " + threads + ", after "
                    + Thread.activeCount());
        }
    }

    /**
     * A connection the listener accepts while it is closing (accept and close race on a busy machine) is closed
     * like the others: it neither keeps its descriptor nor holds the close up for the whole grace period.
     */
    @Test
    void aConnectionAcceptedWhileClosingIsClosedAndDoesNotHoldTheCloseUp() throws Exception {
        MilterClient client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"),
                context -> new Milter() { }).transport(Transport.NIO).threads(1).build();
        java.net.SocketAddress address = client.start().toCompletableFuture().get(20, TimeUnit.SECONDS);
        try (FakeMta mta = FakeMta.connect(address).timeout(Duration.ofSeconds(20))) {
            mta.negotiate(Option.offer(6));
            Channel server = client.serverChannel();
            NioSocketChannel late = new NioSocketChannel();
            // On the listener's loop, in one go: the close begins (the running session keeps it waiting for up to
            // its grace period), and the listener hands on a connection it had just accepted, not yet registered.
            CompletableFuture<Void> closed = server.eventLoop().submit(() -> {
                CompletableFuture<Void> closing = client.closeAsync(Duration.ofSeconds(120)).toCompletableFuture();
                server.pipeline().fireChannelRead(late);
                return closing;
            }).get(20, TimeUnit.SECONDS);
            assertTrue(late.closeFuture().await(20, TimeUnit.SECONDS), "the late connection is closed");
            assertFalse(late.isOpen());
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            closed.get(20, TimeUnit.SECONDS);
            assertEquals(0, client.processingSessions());
        } finally {
            client.close();
        }
    }

    private static void connectAndClose(InetSocketAddress address, int count) throws IOException {
        for (int i = 0; i < count; i++) {
            try (Socket socket = new Socket()) {
                socket.connect(address, 20_000);
            }
        }
    }

    static long openDescriptors() throws IOException {
        try (Stream<Path> entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count();
        }
    }

    private static byte[] encode(Command command) {
        List<Object> out = new ArrayList<>();
        CommandEncoder.encode(ALLOC, command, out);
        ByteBuf all = Unpooled.buffer();
        for (Object part : out) {
            all.writeBytes((ByteBuf) part);
            ReferenceCountUtil.release(part);
        }
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        return bytes;
    }

    private static List<Reply> readReplies(InputStream in, int count) throws IOException {
        EmbeddedChannel decoder = new EmbeddedChannel(new ReplyDecoder());
        List<Reply> replies = new ArrayList<>();
        byte[] buffer = new byte[65536];
        try {
            while (replies.size() < count) {
                int n = in.read(buffer);
                if (n < 0) {
                    throw new IOException("closed after " + replies.size() + " replies");
                }
                decoder.writeInbound(Unpooled.copiedBuffer(buffer, 0, n));
                Object reply;
                while ((reply = decoder.readInbound()) != null) {
                    replies.add((Reply) reply);
                }
            }
            return replies;
        } finally {
            decoder.finishAndReleaseAll();
        }
    }

    /** Writes the commands from its own thread: the socket blocks it while the milter does not read. */
    private static final class CommandWriter {
        private final ExecutorService executor = Executors.newSingleThreadExecutor();
        private final Future<?> done;

        CommandWriter(OutputStream out, byte[] negotiate, byte[] connect, byte[] helo, int count) {
            done = executor.submit(() -> {
                out.write(negotiate);
                out.write(connect);
                byte[] batch = new byte[helo.length * 100];
                for (int i = 0; i < 100; i++) {
                    System.arraycopy(helo, 0, batch, i * helo.length, helo.length);
                }
                for (int i = 0; i < count / 100; i++) {
                    out.write(batch);
                }
                out.flush();
                return null;
            });
        }

        void await() throws Exception {
            done.get(60, TimeUnit.SECONDS);
        }

        void stop() throws InterruptedException {
            executor.shutdownNow();
            assertTrue(executor.awaitTermination(20, TimeUnit.SECONDS));
        }
    }
}
