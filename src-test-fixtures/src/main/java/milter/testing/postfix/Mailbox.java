package milter.testing.postfix;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Reads a maildir that a delivery agent fills. Delivery writes into {@code tmp/} and renames into {@code new/},
 * so every file seen in {@code new/} (or {@code cur/}) is a complete message. Waiting is bounded polling of the
 * directory.
 */
public final class Mailbox {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final long POLL_MILLIS = 20;

    private final Path maildir;

    public Mailbox(Path maildir) {
        this.maildir = maildir;
    }

    public Path directory() {
        return maildir;
    }

    /** Every message delivered so far, oldest first. */
    public List<DeliveredMessage> messages() throws IOException {
        List<Path> files = new ArrayList<>();
        collect(maildir.resolve("new"), files);
        collect(maildir.resolve("cur"), files);
        List<Stored> stored = new ArrayList<>();
        for (Path file : files) {
            try {
                stored.add(new Stored(Files.getLastModifiedTime(file), file, Files.readAllBytes(file)));
            } catch (NoSuchFileException e) {
                // moved from new/ to cur/ by someone else meanwhile; seen again on the next look
            }
        }
        stored.sort(Comparator.comparing(Stored::modified).thenComparing(s -> s.file().getFileName().toString()));
        List<DeliveredMessage> messages = new ArrayList<>(stored.size());
        for (Stored s : stored) {
            messages.add(new DeliveredMessage(s.file(), s.content()));
        }
        return messages;
    }

    /** Waits until at least {@code count} messages are there and returns all of them. */
    public List<DeliveredMessage> awaitMessages(int count, Duration timeout) throws IOException {
        return await(count, timeout, m -> true, count + " message(s)");
    }

    /** Waits until at least {@code count} copies were delivered to {@code recipient} and returns those. */
    public List<DeliveredMessage> awaitMessagesTo(String recipient, int count, Duration timeout) throws IOException {
        return await(count, timeout, m -> recipient.equalsIgnoreCase(m.deliveredTo()),
                count + " message(s) to " + recipient);
    }

    /**
     * Waits until at least {@code count} delivered messages match {@code wanted} and returns those; {@code what}
     * names them in the failure message.
     */
    public List<DeliveredMessage> awaitMatching(Predicate<DeliveredMessage> wanted, int count, Duration timeout,
            String what) throws IOException {
        return await(count, timeout, wanted, what);
    }

    private List<DeliveredMessage> await(int count, Duration timeout, Predicate<DeliveredMessage> wanted,
            String what) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<DeliveredMessage> matching = new ArrayList<>();
            for (DeliveredMessage message : messages()) {
                if (wanted.test(message)) {
                    matching.add(message);
                }
            }
            if (matching.size() >= count) {
                return matching;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("expected " + what + " in " + maildir + " within " + timeout + ", found "
                        + matching.size() + ": " + matching);
            }
            pause();
        }
    }

    private static void pause() throws IOException {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for delivery", e);
        }
    }

    private static void collect(Path directory, List<Path> into) throws IOException {
        if (!Files.isDirectory(directory)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                if (!entry.getFileName().toString().startsWith(".")) {
                    into.add(entry);
                }
            }
        } catch (NoSuchFileException e) {
            // not created yet
        }
    }

    private record Stored(FileTime modified, Path file, byte[] content) {
    }
}
