package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The temporary file that holds a large body, seen through the session that made it: while the message is open
 * the file exists only as an open descriptor (no name in the directory) and is readable and writable by its
 * owner alone; when the message ends the descriptor is gone too.
 */
class TemporaryFileSecurityTest {

    @Test
    void aSpilledBodyIsOwnerOnlyNamelessAndClosedAtTheEnd(@TempDir Path tmp) throws Exception {
        String previous = System.getProperty("java.io.tmpdir");
        System.setProperty("java.io.tmpdir", tmp.toString());
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a");
            harness.start();
            FakeMta mta = Flow.afterData(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            String chunk = "s".repeat(65535);
            for (int i = 0; i < 6 * 1024 * 1024 / 65535 + 1; i++) {
                assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.body(chunk)));
            }
            List<Path> open = descriptorsOn(tmp);
            assertEquals(1, open.size(), "one temporary file is open");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(open.get(0))));
            assertTrue(Files.readSymbolicLink(open.get(0)).toString().endsWith(" (deleted)"),
                    "unlinked while in use: " + Files.readSymbolicLink(open.get(0)));
            try (Stream<Path> names = Files.list(tmp)) {
                assertEquals(0, names.count(), "no name left in the directory");
            }
            List<Reply> end = mta.endOfMessage();
            assertEquals(Reply.Continue.INSTANCE, end.get(end.size() - 1));
            assertEquals(List.of(), descriptorsOn(tmp));
        } finally {
            System.setProperty("java.io.tmpdir", previous);
        }
    }

    /** Descriptors of this process open on (deleted) files of {@code directory} (Linux {@code /proc}). */
    private static List<Path> descriptorsOn(Path directory) throws IOException {
        List<Path> found = new ArrayList<>();
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd"))) {
            for (Path descriptor : descriptors.toList()) {
                try {
                    if (Files.readSymbolicLink(descriptor).toString().startsWith(directory + "/")) {
                        found.add(descriptor);
                    }
                } catch (IOException | UnsupportedOperationException gone) {
                    // Closed while listing, or not a link: not ours.
                }
            }
        }
        return found;
    }
}
