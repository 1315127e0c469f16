package milter.manager.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * The body of the message being processed. Chunks are kept in memory (as retained buffers, not copies) up to a
 * threshold; past it the body moves to a temporary file readable only by us, which is deleted when the store is
 * closed (end of message, abort, error). Not thread-safe: one session, one event loop.
 */
public final class BodyStore implements AutoCloseable {
    /** Upstream keeps up to 5 MiB of body in memory. */
    public static final long DEFAULT_MEMORY_THRESHOLD = 5 * 1024 * 1024;

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /** Bodies moved to a temporary file since the process started (read by the metrics). */
    private static final LongAdder SPILLS = new LongAdder();

    private final long memoryThreshold;
    private final Path tempDirectory;
    private CompositeByteBuf memory;
    private Path file;
    private FileChannel channel;
    private long size;

    public BodyStore(long memoryThreshold, Path tempDirectory) {
        this.memoryThreshold = memoryThreshold;
        this.tempDirectory = tempDirectory;
    }

    public long size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** How many bodies have moved to a temporary file in this process. */
    public static long spills() {
        return SPILLS.sum();
    }

    /** Whether the body has moved to a temporary file. */
    public boolean onDisk() {
        return channel != null;
    }

    /** The temporary file, or null while the body is in memory. */
    public Path file() {
        return file;
    }

    /**
     * A failure of the temporary file, named with the operation upstream's log tags use ({@code open},
     * {@code write}, {@code read}).
     */
    public static final class StoreException extends IOException {
        private final String operation;

        public StoreException(String operation, IOException cause) {
            super(cause.getMessage(), cause);
            this.operation = operation;
        }

        public String operation() {
            return operation;
        }
    }

    /**
     * Appends a chunk (the caller keeps its own reference).
     *
     * @throws StoreException when the temporary file cannot be created ({@code open}) or written ({@code write});
     *         the store is then closed
     */
    public void append(ByteBuf chunk) throws StoreException {
        int length = chunk.readableBytes();
        if (length == 0) {
            return;
        }
        if (channel == null && size + length > memoryThreshold) {
            spill();
        }
        if (channel != null) {
            try {
                int written = 0;
                while (written < length) {
                    written += chunk.getBytes(chunk.readerIndex() + written, channel, size + written,
                            length - written);
                }
            } catch (IOException e) {
                close();
                throw new StoreException("write", e);
            }
        } else {
            if (memory == null) {
                memory = Unpooled.compositeBuffer(Integer.MAX_VALUE);
            }
            memory.addComponent(true, chunk.retainedSlice());
        }
        size += length;
    }

    /**
     * Up to {@code max} bytes from {@code offset}: a retained slice while in memory, a new buffer read from the
     * file otherwise. The caller releases it.
     *
     * @throws StoreException ({@code read}) when the temporary file cannot be read
     */
    public ByteBuf read(long offset, int max, ByteBufAllocator alloc) throws StoreException {
        if (offset < 0 || offset > size) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside body of " + size + " bytes");
        }
        int length = (int) Math.min(max, size - offset);
        if (length == 0) {
            return Unpooled.EMPTY_BUFFER;
        }
        if (channel == null) {
            return memory.retainedSlice((int) offset, length);
        }
        ByteBuf out = alloc.ioBuffer(length);
        try {
            int read = 0;
            while (read < length) {
                int n = out.writeBytes(channel, offset + read, length - read);
                if (n < 0) {
                    throw new IOException("temporary body file ended early: " + file);
                }
                read += n;
            }
            return out;
        } catch (IOException e) {
            out.release();
            throw new StoreException("read", e);
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Empties the store (a child replaces the body), keeping its configuration. */
    public void clear() {
        close();
    }

    /** Releases memory and deletes the temporary file. Safe to call more than once. */
    @Override
    public void close() {
        if (memory != null) {
            memory.release();
            memory = null;
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // The file is deleted below; a failing close changes nothing for us.
            }
            channel = null;
        }
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // DELETE_ON_CLOSE already unlinked it on most systems.
            }
            file = null;
        }
        size = 0;
    }

    private void spill() throws StoreException {
        Path created;
        FileChannel opened;
        try {
            created = Files.createTempFile(tempDirectory, "milter-manager-body-", ".tmp", OWNER_ONLY);
        } catch (IOException e) {
            close();
            throw new StoreException("open", e);
        }
        try {
            opened = FileChannel.open(created, StandardOpenOption.READ, StandardOpenOption.WRITE,
                    StandardOpenOption.DELETE_ON_CLOSE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(created);
            } catch (IOException ignored) {
                // Reported below; a leftover empty owner-only file is all that can remain.
            }
            close();
            throw new StoreException("open", e);
        }
        file = created;
        channel = opened;
        SPILLS.increment();
        if (memory != null) {
            try {
                long written = 0;
                while (written < size) {
                    written += memory.getBytes((int) written, channel, written, (int) (size - written));
                }
            } catch (IOException e) {
                close();
                throw new StoreException("write", e);
            }
            memory.release();
            memory = null;
        }
    }
}
