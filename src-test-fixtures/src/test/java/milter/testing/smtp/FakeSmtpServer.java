package milter.testing.smtp;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A one-connection scripted SMTP server for client tests: sends a greeting, answers each command line with what
 * the responder returns (raw, CRLFs included; null closes the connection) and, after a 354, collects the DATA
 * stream up to the end marker before answering 250.
 */
final class FakeSmtpServer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;
    private final String greeting;
    private final Function<String, String> responder;
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final CompletableFuture<byte[]> data = new CompletableFuture<>();
    private volatile Socket connection;

    FakeSmtpServer(String greeting, Function<String, String> responder) throws IOException {
        this.server = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        this.greeting = greeting;
        this.responder = responder;
        this.thread = new Thread(this::serve, "fake-smtp-server");
        thread.start();
    }

    int port() {
        return server.getLocalPort();
    }

    List<String> commands() {
        return commands;
    }

    /** The raw DATA stream (dot-stuffed, end marker included) once received. */
    byte[] data() throws Exception {
        return data.get(30, TimeUnit.SECONDS);
    }

    private void serve() {
        try (Socket socket = server.accept()) {
            connection = socket;
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            write(out, greeting);
            String line;
            while ((line = readLine(in)) != null) {
                commands.add(line);
                String reply = responder.apply(line);
                if (reply == null) {
                    return;
                }
                write(out, reply);
                if (reply.startsWith("354")) {
                    data.complete(readData(in));
                    write(out, "250 2.0.0 Ok: queued\r\n");
                }
            }
        } catch (IOException e) {
            data.completeExceptionally(e);
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                String text = line.toString(StandardCharsets.ISO_8859_1);
                return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
            }
            line.write(b);
        }
        return null;
    }

    private static byte[] readData(InputStream in) throws IOException {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        byte[] end = {'\r', '\n', '.', '\r', '\n'};
        int b;
        while ((b = in.read()) >= 0) {
            stream.write(b);
            byte[] sofar = stream.toByteArray();
            boolean ended = sofar.length == 3 && sofar[0] == '.' && sofar[1] == '\r' && sofar[2] == '\n';
            if (!ended && sofar.length >= end.length) {
                ended = true;
                for (int i = 0; i < end.length; i++) {
                    if (sofar[sofar.length - end.length + i] != end[i]) {
                        ended = false;
                        break;
                    }
                }
            }
            if (ended) {
                return sofar;
            }
        }
        throw new IOException("connection closed inside DATA");
    }

    @Override
    public void close() throws IOException {
        server.close();
        Socket socket = connection;
        if (socket != null) {
            socket.close();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while stopping the server thread");
        }
    }
}
