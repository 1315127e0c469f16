package milter.testing.smtp;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A small blocking SMTP client for tests. Every command returns the server's reply as it came, so a test can
 * assert rejections; nothing is retried or interpreted beyond what the protocol needs (DATA content is only sent
 * after a 354). Every reply received, greeting included, is kept in {@link #replies()}.
 *
 * <p>Not thread-safe: one test thread drives one client.
 */
public final class SmtpClient implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** A reply line longer than this is a broken server, not something to buffer. */
    static final int MAX_LINE = 64 * 1024;
    static final int MAX_REPLY_LINES = 1000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final List<SmtpReply> replies = new ArrayList<>();
    private final SmtpReply greeting;
    private List<String> extensions = List.of();

    private SmtpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        this.greeting = readReply();
    }

    /** Connects with {@link #DEFAULT_TIMEOUT} for the connect and for every reply, and reads the greeting. */
    public static SmtpClient connect(String host, int port) throws IOException {
        return connect(host, port, DEFAULT_TIMEOUT);
    }

    /** Connects, using {@code timeout} for the connect and for every reply, and reads the greeting. */
    public static SmtpClient connect(String host, int port, Duration timeout) throws IOException {
        return connect(host, port, null, timeout);
    }

    /**
     * Connects from {@code localAddress} (for example {@code 127.0.0.2}, so the server sees another client
     * address on loopback; null for any), and reads the greeting.
     */
    public static SmtpClient connect(String host, int port, String localAddress, Duration timeout)
            throws IOException {
        Socket socket = new Socket();
        try {
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
            socket.connect(new InetSocketAddress(host, port), millis);
            socket.setSoTimeout(millis);
            socket.setTcpNoDelay(true);
            return new SmtpClient(socket);
        } catch (IOException | RuntimeException e) {
            closeQuietly(socket, e);
            throw e;
        }
    }

    /** The 220 (or refusal) the server greeted with. */
    public SmtpReply greeting() {
        return greeting;
    }

    /** Every reply received so far, oldest first. */
    public List<SmtpReply> replies() {
        return Collections.unmodifiableList(replies);
    }

    public SmtpReply lastReply() {
        return replies.get(replies.size() - 1);
    }

    /** Sends EHLO; on success the extension lines are available from {@link #extensions()}. */
    public SmtpReply ehlo(String domain) throws IOException {
        SmtpReply reply = command("EHLO " + domain);
        extensions = reply.isPositive() ? List.copyOf(reply.lines().subList(1, reply.lines().size())) : List.of();
        return reply;
    }

    public SmtpReply helo(String domain) throws IOException {
        extensions = List.of();
        return command("HELO " + domain);
    }

    /** The extension lines of the last successful EHLO ({@code SIZE 10240000}, {@code 8BITMIME}, ...). */
    public List<String> extensions() {
        return extensions;
    }

    /** Whether the last EHLO announced {@code keyword} (case-insensitive, parameters ignored). */
    public boolean supports(String keyword) {
        String wanted = keyword.toUpperCase(Locale.ROOT);
        for (String line : extensions) {
            String name = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
            if (name.equals(wanted)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code MAIL FROM:<address> params...}. The address is given without angle brackets ({@code ""} is the
     * null sender); one that already has them is sent as it is.
     */
    public SmtpReply mailFrom(String address, String... parameters) throws IOException {
        return command(withParameters("MAIL FROM:" + path(address), parameters));
    }

    /** {@code RCPT TO:<address> params...}; see {@link #mailFrom} for the address form. */
    public SmtpReply rcptTo(String address, String... parameters) throws IOException {
        return command(withParameters("RCPT TO:" + path(address), parameters));
    }

    /** Sends DATA and, after a 354, the content; returns the reply to DATA if it was not 354, else the final one. */
    public SmtpReply data(byte[] content) throws IOException {
        return data(new ByteArrayInputStream(content));
    }

    /**
     * Like {@link #data(byte[])} but streams the content. Line ends are normalised to CRLF and leading dots are
     * doubled, so {@code content} is the message as it should arrive, not as it travels.
     */
    public SmtpReply data(InputStream content) throws IOException {
        SmtpReply reply = command("DATA");
        if (reply.code() != 354) {
            return reply;
        }
        DotStuffingOutputStream stuffing = new DotStuffingOutputStream(out);
        content.transferTo(stuffing);
        stuffing.finish();
        return readReply();
    }

    public SmtpReply rset() throws IOException {
        return command("RSET");
    }

    public SmtpReply noop() throws IOException {
        return command("NOOP");
    }

    public SmtpReply quit() throws IOException {
        return command("QUIT");
    }

    /**
     * One whole transaction: MAIL, every RCPT, and DATA if at least one recipient was accepted. Stops at the first
     * refused step, so {@link SmtpTransaction#data()} is null when DATA was never sent.
     */
    public SmtpTransaction send(String from, List<String> recipients, byte[] content) throws IOException {
        SmtpReply mail = mailFrom(from);
        List<SmtpReply> rcpts = new ArrayList<>();
        if (!mail.isPositive()) {
            return new SmtpTransaction(mail, rcpts, null);
        }
        boolean anyAccepted = false;
        for (String recipient : recipients) {
            SmtpReply rcpt = rcptTo(recipient);
            rcpts.add(rcpt);
            anyAccepted |= rcpt.isPositive();
        }
        if (!anyAccepted) {
            return new SmtpTransaction(mail, rcpts, null);
        }
        return new SmtpTransaction(mail, rcpts, data(content));
    }

    /** Sends one command line (no CR or LF in it) and reads the reply. */
    public SmtpReply command(String line) throws IOException {
        if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("an SMTP command is one line: " + line.replace("\r", "\\r")
                    .replace("\n", "\\n"));
        }
        out.write(line.getBytes(StandardCharsets.ISO_8859_1));
        out.write('\r');
        out.write('\n');
        out.flush();
        return readReply();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private SmtpReply readReply() throws IOException {
        List<String> lines = new ArrayList<>();
        int code = -1;
        while (true) {
            String line = readLine();
            if (line.length() < 3 || !isCode(line) || (line.length() > 3 && line.charAt(3) != ' '
                    && line.charAt(3) != '-')) {
                throw new SmtpProtocolException("malformed SMTP reply line: " + line);
            }
            int lineCode = Integer.parseInt(line.substring(0, 3));
            if (code >= 0 && lineCode != code) {
                throw new SmtpProtocolException("reply code changed within a multi-line reply: " + code + " then "
                        + line);
            }
            code = lineCode;
            lines.add(line.length() > 4 ? line.substring(4) : "");
            boolean last = line.length() == 3 || line.charAt(3) == ' ';
            if (last) {
                break;
            }
            if (lines.size() >= MAX_REPLY_LINES) {
                throw new SmtpProtocolException("reply exceeds " + MAX_REPLY_LINES + " lines");
            }
        }
        if (code < 100 || code > 599) {
            throw new SmtpProtocolException("reply code out of range: " + code);
        }
        SmtpReply reply = new SmtpReply(code, lines);
        replies.add(reply);
        return reply;
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new SmtpProtocolException(line.size() == 0
                        ? "connection closed by the server while waiting for a reply"
                        : "connection closed by the server within a reply line: "
                                + line.toString(StandardCharsets.ISO_8859_1));
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, length, StandardCharsets.ISO_8859_1);
            }
            if (line.size() >= MAX_LINE) {
                throw new SmtpProtocolException("reply line longer than " + MAX_LINE + " bytes");
            }
            line.write(b);
        }
    }

    private static boolean isCode(String line) {
        for (int i = 0; i < 3; i++) {
            if (line.charAt(i) < '0' || line.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static String path(String address) {
        return address.startsWith("<") ? address : "<" + address + ">";
    }

    private static String withParameters(String command, String... parameters) {
        StringBuilder sb = new StringBuilder(command);
        for (String parameter : parameters) {
            sb.append(' ').append(parameter);
        }
        return sb.toString();
    }

    private static void closeQuietly(Socket socket, Exception cause) {
        try {
            socket.close();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }
}
