package milter.testing.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Free ports on 127.0.0.1 and whether something listens on one, from {@code /proc/net/tcp} (no connection made). */
public final class LoopbackPorts {
    private static final Path TCP = Path.of("/proc/net/tcp");
    private static final String LISTEN = "0A";

    private LoopbackPorts() {
    }

    /** A port nothing listens on right now; the caller's server binds it soon after. */
    public static int free() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether a socket listens on 127.0.0.1:{@code port} or on the IPv4 wildcard address. Probing this way keeps
     * a milter from seeing a connection that is not a session.
     */
    public static boolean isListening(int port) {
        List<String> lines;
        try {
            lines = Files.readAllLines(TCP);
        } catch (IOException e) {
            return false;
        }
        // The kernel prints the address as a little-endian hex word and the port as big-endian hex.
        String loopback = String.format(Locale.ROOT, "0100007F:%04X", port);
        String any = String.format(Locale.ROOT, "00000000:%04X", port);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length > 3 && fields[3].equals(LISTEN)
                    && (fields[1].equalsIgnoreCase(loopback) || fields[1].equalsIgnoreCase(any))) {
                return true;
            }
        }
        return false;
    }
}
