package milter.testing.postfix;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Listening IPv4 sockets on 127.0.0.1, as the kernel lists them in {@code /proc/net/tcp}. */
final class LoopbackListeners {
    private static final Path TCP = Path.of("/proc/net/tcp");
    private static final String LISTEN = "0A";

    private LoopbackListeners() {
    }

    /** Socket inodes listening on 127.0.0.1:{@code port}; null when /proc/net/tcp cannot be read. */
    static Set<String> inodes(int port) {
        List<String> lines;
        try {
            lines = Files.readAllLines(TCP);
        } catch (IOException e) {
            return null;
        }
        // The kernel prints the address as a little-endian hex word and the port as big-endian hex.
        String local = String.format(Locale.ROOT, "0100007F:%04X", port);
        Set<String> inodes = new HashSet<>();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] fields = line.trim().split("\\s+");
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            if (fields.length > 9 && fields[1].equalsIgnoreCase(local) && fields[3].equals(LISTEN)) {
                inodes.add(fields[9]);
            }
        }
        return inodes;
    }
}
