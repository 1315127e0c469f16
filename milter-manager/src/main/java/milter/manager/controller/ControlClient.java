package milter.manager.controller;

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
import milter.core.net.ConnectionSpec;

/**
 * A client of the control socket, for tools and tests: one connection, blocking calls, each waiting at most the
 * timeout for its reply.
 *
 * <pre>{@code
 * try (ControlClient client = ControlClient.connect(ConnectionSpec.parse("unix:/run/milter-manager/controller.sock"),
 *         Duration.ofSeconds(30))) {
 *     String xml = client.getConfiguration();
 *     client.reload();
 * }
 * }</pre>
 */
public final class ControlClient implements AutoCloseable {
    private final SocketChannel channel;
    private final Selector selector;
    private final long timeoutNanos;
    private final int maxPayload;

    private ControlClient(SocketChannel channel, Selector selector, Duration timeout, int maxPayload) {
        this.channel = channel;
        this.selector = selector;
        this.timeoutNanos = timeout.toNanos();
        this.maxPayload = maxPayload;
    }

    public static ControlClient connect(ConnectionSpec spec, Duration timeout) throws IOException {
        SocketAddress address = spec.toSocketAddress();
        SocketChannel channel = address instanceof UnixDomainSocketAddress
                ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
        Selector selector = null;
        try {
            channel.configureBlocking(false);
            selector = Selector.open();
            ControlClient client = new ControlClient(channel, selector, timeout, ControlCodec.DEFAULT_MAX_PAYLOAD * 16);
            client.finishConnect(address);
            return client;
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (selector != null) {
                selector.close();
            }
            throw e;
        }
    }

    private void finishConnect(SocketAddress address) throws IOException {
        if (channel.connect(address)) {
            return;
        }
        long deadline = System.nanoTime() + timeoutNanos;
        while (!channel.finishConnect()) {
            await(SelectionKey.OP_CONNECT, deadline);
        }
    }

    /** Sends a request and returns the reply packet. */
    public ControlPacket call(ControlPacket request) throws IOException {
        send(request);
        return receive();
    }

    /** Sends a request without waiting for a reply (upstream answers some requests with nothing). */
    public void send(ControlPacket request) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        ByteBuffer frame = ByteBuffer.wrap(ControlCodec.encode(request));
        while (frame.hasRemaining()) {
            if (channel.write(frame) == 0) {
                await(SelectionKey.OP_WRITE, deadline);
            }
        }
    }

    /** Reads one reply packet. */
    public ControlPacket receive() throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        ByteBuffer header = ByteBuffer.allocate(4);
        readFully(header, deadline);
        long length = Integer.toUnsignedLong(header.getInt(0));
        if (length > maxPayload) {
            throw new IOException("reply too large: " + length + " bytes");
        }
        ByteBuffer payload = ByteBuffer.allocate((int) length);
        readFully(payload, deadline);
        try {
            return ControlCodec.decode(payload.array());
        } catch (ControlProtocolException e) {
            throw new IOException("invalid reply: " + e.getMessage(), e);
        }
    }

    private void readFully(ByteBuffer buffer, long deadline) throws IOException {
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer);
            if (read < 0) {
                throw new IOException("connection closed by the controller");
            }
            if (read == 0) {
                await(SelectionKey.OP_READ, deadline);
            }
        }
    }

    private void await(int operation, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("no answer from the controller in " + Duration.ofNanos(timeoutNanos));
        }
        SelectionKey key = channel.register(selector, operation);
        try {
            selector.select(Math.max(1, left / 1_000_000));
        } finally {
            key.interestOps(0);
            selector.selectedKeys().clear();
        }
    }

    /** {@code get-configuration}: the configuration as XML. */
    public String getConfiguration() throws IOException {
        return expect(call(ControlPacket.of(ControlPacket.GET_CONFIGURATION)), ControlPacket.CONFIGURATION).text();
    }

    /** {@code set-configuration}: stores {@code content} as the custom configuration file (no reload). */
    public void setConfiguration(String content) throws IOException {
        expect(call(ControlPacket.of(ControlPacket.SET_CONFIGURATION, content)), ControlPacket.SUCCESS);
    }

    /** {@code reload}. */
    public void reload() throws IOException {
        expect(call(ControlPacket.of(ControlPacket.RELOAD)), ControlPacket.SUCCESS);
    }

    /** {@code get-status}: the status text. */
    public String getStatus() throws IOException {
        return expect(call(ControlPacket.of(ControlPacket.GET_STATUS)), ControlPacket.STATUS).text();
    }

    /** {@code stop-child}: stops the process the launcher started for milter {@code name}. */
    public void stopChild(String name) throws IOException {
        expect(call(ControlPacket.of(ControlPacket.STOP_CHILD, name)), ControlPacket.SUCCESS);
    }

    private static ControlPacket expect(ControlPacket reply, String name) throws IOException {
        if (reply.name().equals(name)) {
            return reply;
        }
        if (reply.name().equals(ControlPacket.ERROR) || reply.name().equals(ControlPacket.FAILURE)) {
            throw new ControlErrorException(reply.name(), reply.text());
        }
        throw new IOException("unexpected reply: <" + reply.name() + ">");
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }

    /** The controller answered {@code error} (or {@code failure}) with a message. */
    public static final class ControlErrorException extends IOException {
        private final String kind;

        public ControlErrorException(String kind, String message) {
            super(message);
            this.kind = kind;
        }

        /** {@code error} or {@code failure}. */
        public String kind() {
            return kind;
        }
    }
}
