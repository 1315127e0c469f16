package milter.testing.postfix;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import milter.core.codec.CommandDecoder;
import milter.core.codec.ReplyEncoder;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * A milter in a few lines on a plain ServerSocket, one thread per MTA connection: negotiates protocol 6 with the
 * add-header action and every event, continues on everything, answers RCPT with a configurable reply and adds a
 * header at end of message. Built from milter-core's decoder (in an EmbeddedChannel) and encoder.
 */
final class MinimalMilter implements AutoCloseable {
    private final ServerSocket server;
    private final Reply recipientReply;
    private final Reply.AddHeader endOfMessageHeader;
    private final Thread acceptor;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    private final List<Thread> workers = new CopyOnWriteArrayList<>();
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private MinimalMilter(Reply recipientReply, Reply.AddHeader endOfMessageHeader) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.recipientReply = recipientReply;
        this.endOfMessageHeader = endOfMessageHeader;
        this.acceptor = new Thread(this::acceptLoop, "minimal-milter-accept");
        acceptor.start();
    }

    /** Continues on everything, then adds {@code name: value} at end of message. */
    static MinimalMilter addingHeader(String name, String value) throws IOException {
        return new MinimalMilter(Reply.Continue.INSTANCE, new Reply.AddHeader(name, value));
    }

    /** Answers every RCPT with {@code reply} (e.g. {@code 550 5.7.1 No thanks}). */
    static MinimalMilter rejectingRecipients(String reply) throws IOException {
        return new MinimalMilter(Reply.ReplyCode.parse(reply), null);
    }

    /** The Postfix milter spec that reaches this milter. */
    String spec() {
        return "inet:127.0.0.1:" + server.getLocalPort();
    }

    /** Nicks of the commands received, in order, over all connections. */
    List<String> seen() {
        return seen;
    }

    /** Errors in connection threads (decode failures and the like). */
    List<Throwable> failures() {
        return failures;
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                connections.add(socket);
                if (server.isClosed()) {
                    socket.close(); // close() ran between accept and add
                    return;
                }
                Thread worker = new Thread(() -> serve(socket), "minimal-milter-session");
                workers.add(worker);
                worker.start();
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        EmbeddedChannel decoder = new EmbeddedChannel(new CommandDecoder());
        try (socket) {
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                decoder.writeInbound(Unpooled.copiedBuffer(buffer, 0, n));
                Object message;
                while ((message = decoder.readInbound()) != null) {
                    try {
                        Command command = (Command) message;
                        seen.add(command.type().nick());
                        if (command instanceof Command.Quit) {
                            return;
                        }
                        write(out, respond(command));
                    } finally {
                        ReferenceCountUtil.release(message);
                    }
                }
            }
        } catch (IOException e) {
            if (!server.isClosed()) {
                failures.add(e);
            }
        } catch (RuntimeException e) {
            failures.add(e);
        } finally {
            decoder.finishAndReleaseAll();
        }
    }

    private List<Reply> respond(Command command) {
        switch (command.type()) {
            case NEGOTIATE:
                return List.of(new Reply.Negotiate(new Option(Option.CURRENT_VERSION, ActionFlags.ADD_HEADERS, 0)));
            case DEFINE_MACRO:
            case ABORT:
            case QUIT_NEW_CONNECTION:
                return List.of();
            case ENVELOPE_RECIPIENT:
                return List.of(recipientReply);
            case END_OF_MESSAGE:
                return endOfMessageHeader == null ? List.of(Reply.Continue.INSTANCE)
                        : List.of(endOfMessageHeader, Reply.Continue.INSTANCE);
            default:
                return List.of(Reply.Continue.INSTANCE);
        }
    }

    private static void write(OutputStream out, List<Reply> replies) throws IOException {
        List<Object> frames = new ArrayList<>();
        for (Reply reply : replies) {
            ReplyEncoder.encode(ByteBufAllocator.DEFAULT, reply, frames);
        }
        for (Object frame : frames) {
            ByteBuf buf = (ByteBuf) frame;
            try {
                buf.readBytes(out, buf.readableBytes());
            } finally {
                buf.release();
            }
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : connections) {
            socket.close();
        }
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(10));
            for (Thread worker : workers) {
                worker.join(TimeUnit.SECONDS.toMillis(10));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the milter threads");
        }
    }
}
