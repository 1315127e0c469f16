package milter.testing.mta;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.Closeable;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyDecoder;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * A scriptable MTA for tests: connects to a milter, sends {@link Command}s and reads {@link Reply}s, one call at
 * a time from the test thread. Works over TCP and UNIX domain sockets. Every blocking read is bounded by a
 * timeout that only guards against hangs (a test that hits it fails with {@link SocketTimeoutException}).
 */
public final class FakeMta implements Closeable {
    /** Hang guard for a single read. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final SocketChannel channel;
    private final Selector selector;
    private final EmbeddedChannel decoder;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(64 * 1024);
    private final List<Reply> pending = new ArrayList<>();
    private Duration timeout = DEFAULT_TIMEOUT;
    private boolean eof;

    private FakeMta(SocketChannel channel) throws IOException {
        this.channel = channel;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        // Large enough for any reply a milter may send, including negotiated max-data-size extensions.
        this.decoder = new EmbeddedChannel(new ReplyDecoder(ReplyDecoder.ABSOLUTE_MAX_PAYLOAD));
    }

    /** Connects to a milter at a connection spec ({@code inet:PORT@HOST}, {@code inet6:...}, {@code unix:PATH}). */
    public static FakeMta connect(String spec) throws IOException {
        return connect(ConnectionSpec.parse(spec).toSocketAddress());
    }

    /** Connects to a milter at a socket address ({@link java.net.InetSocketAddress} or {@link UnixDomainSocketAddress}). */
    public static FakeMta connect(SocketAddress address) throws IOException {
        SocketChannel channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        try {
            channel.connect(address);
            if (!(address instanceof UnixDomainSocketAddress)) {
                channel.socket().setTcpNoDelay(true);
            }
            return new FakeMta(channel);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Changes the hang guard of reads. */
    public FakeMta timeout(Duration newTimeout) {
        this.timeout = newTimeout;
        return this;
    }

    /** Encodes and writes commands (all in one write, as a pipelining MTA would). */
    public FakeMta send(Command... commands) throws IOException {
        List<Object> out = new ArrayList<>();
        try {
            for (Command command : commands) {
                CommandEncoder.encode(UnpooledByteBufAllocator.DEFAULT, command, out);
            }
            int size = 0;
            for (Object o : out) {
                size += ((ByteBuf) o).readableBytes();
            }
            byte[] bytes = new byte[size];
            int at = 0;
            for (Object o : out) {
                ByteBuf buf = (ByteBuf) o;
                int n = buf.readableBytes();
                buf.getBytes(buf.readerIndex(), bytes, at, n);
                at += n;
            }
            return sendRaw(bytes);
        } finally {
            out.forEach(ReferenceCountUtil::release);
            for (Command command : commands) {
                ReferenceCountUtil.release(command);
            }
        }
    }

    /** Writes raw bytes (for malformed input). */
    public FakeMta sendRaw(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (buffer.hasRemaining()) {
            if (channel.write(buffer) == 0) {
                await(SelectionKey.OP_WRITE, deadline, "writing");
            }
        }
        return this;
    }

    /** Sends {@code O} and reads the milter's negotiate reply. */
    public Option negotiate(Option offer) throws IOException {
        send(new Command.Negotiate(offer));
        Reply reply = read();
        if (!(reply instanceof Reply.Negotiate negotiate)) {
            throw new IOException("expected a negotiate reply but got " + reply);
        }
        return negotiate.option();
    }

    /** Sends a command and reads one reply. */
    public Reply call(Command command) throws IOException {
        send(command);
        return read();
    }

    /** Sends end of message and reads every packet up to and including the final reply. */
    public List<Reply> endOfMessage() throws IOException {
        send(new Command.EndOfMessage());
        return readUntilFinal();
    }

    /** Reads packets up to and including the first final reply (modifications and progress come before it). */
    public List<Reply> readUntilFinal() throws IOException {
        List<Reply> replies = new ArrayList<>();
        while (true) {
            Reply reply = read();
            replies.add(reply);
            if (reply.type().isFinal()) {
                return replies;
            }
        }
    }

    /**
     * Reads the next reply. A {@link Reply.ReplaceBody}'s content is copied to an unpooled heap buffer, so callers
     * need not release anything.
     *
     * @throws java.io.EOFException when the milter closed the connection first
     */
    public Reply read() throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending.isEmpty()) {
            if (eof) {
                throw new java.io.EOFException("the milter closed the connection");
            }
            fill(deadline);
        }
        return pending.remove(0);
    }

    /**
     * Waits until the milter closes the connection, discarding nothing: replies received before the close stay
     * readable. Returns true on close, false when the guard timeout expired.
     */
    public boolean awaitClose() throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!eof) {
                fill(deadline);
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Replies already received but not read yet. */
    public List<Reply> unread() {
        return List.copyOf(pending);
    }

    private void fill(long deadline) throws IOException {
        readBuffer.clear();
        int n;
        try {
            n = channel.read(readBuffer);
        } catch (IOException e) {
            // A reset after the milter closed counts as end of stream for a test.
            eof = true;
            decodeLast();
            return;
        }
        if (n < 0) {
            eof = true;
            decodeLast();
            return;
        }
        if (n == 0) {
            await(SelectionKey.OP_READ, deadline, "reading");
            return;
        }
        readBuffer.flip();
        decoder.writeInbound(Unpooled.copiedBuffer(readBuffer));
        drainDecoder();
    }

    private void decodeLast() {
        if (decoder.isOpen()) {
            decoder.finish();
            drainDecoder();
        }
    }

    private void drainDecoder() {
        Object message;
        while ((message = decoder.readInbound()) != null) {
            if (message instanceof Reply.ReplaceBody body) {
                ByteBuf copy = Unpooled.copiedBuffer(body.content());
                body.release();
                pending.add(new Reply.ReplaceBody(copy));
            } else {
                pending.add((Reply) message);
            }
        }
    }

    private void await(int op, long deadline, String what) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("fake MTA timed out " + what + " after " + timeout);
        }
        SelectionKey key = channel.register(selector, op);
        try {
            selector.select(Math.max(1, left / 1_000_000));
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    /** Closes the socket abruptly (no {@code Q}). */
    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            try {
                channel.close();
            } finally {
                decoder.finishAndReleaseAll();
            }
        }
    }
}
