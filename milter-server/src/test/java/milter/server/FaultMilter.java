package milter.server;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import milter.core.net.ConnectionSpec;

/**
 * A deliberately broken milter for fault tests: a plain loopback socket whose behaviour is a script (answer
 * wrongly, answer nothing, send garbage, hang up). It accepts connections one after the other and runs the
 * script on each.
 */
public final class FaultMilter implements AutoCloseable {
    public interface Script {
        void run(Peer peer) throws Exception;
    }

    private final ServerSocket server;
    private final Thread thread;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final CountDownLatch closing = new CountDownLatch(1);

    public FaultMilter(Script script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        thread = new Thread(() -> {
            try {
                while (!server.isClosed()) {
                    Socket socket = server.accept();
                    sockets.add(socket);
                    try (socket) {
                        script.run(new Peer(socket, closing));
                    } catch (IOException e) {
                        // The session under test closed the connection: the script ends there.
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }
            } catch (IOException e) {
                // Server socket closed by close().
            } finally {
                finished.countDown();
            }
        }, "fault-milter");
        thread.setDaemon(true);
        thread.start();
    }

    public ConnectionSpec spec() {
        return ConnectionSpec.parse("inet:" + server.getLocalPort() + "@127.0.0.1");
    }

    /** Script failures (other than the connection being closed), for assertions. */
    List<Throwable> errors() {
        return errors;
    }

    @Override
    public void close() throws IOException {
        closing.countDown();
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
        try {
            if (!finished.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("fault milter thread did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while stopping the fault milter", e);
        }
    }

    /** A packet as read from the MTA side. */
    public record Packet(char code, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    /** One accepted connection. */
    public static final class Peer {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;
        private final CountDownLatch closing;

        Peer(Socket socket, CountDownLatch closing) throws IOException {
            this.socket = socket;
            this.closing = closing;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        /** The next packet, or null at end of stream. */
        public Packet read() throws IOException {
            int length;
            try {
                length = in.readInt();
            } catch (EOFException e) {
                return null;
            }
            char code = (char) in.readUnsignedByte();
            byte[] payload = new byte[length - 1];
            in.readFully(payload);
            return new Packet(code, payload);
        }

        /** Reads packets until one with {@code code}; fails at end of stream. */
        public Packet expect(char code) throws IOException {
            while (true) {
                Packet packet = read();
                if (packet == null) {
                    throw new EOFException("stream ended before '" + code + "'");
                }
                if (packet.code() == code) {
                    return packet;
                }
            }
        }

        public void reply(char code, byte[] payload) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(5 + payload.length);
            buffer.putInt(payload.length + 1).put((byte) code).put(payload);
            out.write(buffer.array());
            out.flush();
        }

        public void reply(char code) throws IOException {
            reply(code, new byte[0]);
        }

        /** Answers the negotiate packet (which must come first) with the given words. */
        public void negotiate(int version, int actions, int protocol) throws IOException {
            expect('O');
            ByteBuffer buffer = ByteBuffer.allocate(12).putInt(version).putInt(actions).putInt(protocol);
            reply('O', buffer.array());
        }

        public void raw(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        /** Reads and drops everything until the MTA side closes. */
        public void drain() throws IOException {
            while (read() != null) {
                // Nothing to do with it.
            }
        }

        public void close() throws IOException {
            socket.close();
        }

        /** Aborts the connection: the MTA side sees a reset, not an orderly end of stream. */
        public void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        /** Does nothing (reads nothing) until the fault milter is closed. */
        public void hold() throws InterruptedException {
            closing.await(60, TimeUnit.SECONDS);
        }
    }

    public static byte[] cstrings(String... strings) {
        StringBuilder out = new StringBuilder();
        for (String s : strings) {
            out.append(s).append('\0');
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
