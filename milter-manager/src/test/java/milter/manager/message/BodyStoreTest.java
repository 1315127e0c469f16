package milter.manager.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BodyStoreTest {
    @TempDir
    Path temp;

    private static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static byte[] readAll(BodyStore store, int chunk) throws IOException {
        byte[] out = new byte[(int) store.size()];
        long offset = 0;
        while (offset < store.size()) {
            ByteBuf piece = store.read(offset, chunk, ByteBufAllocator.DEFAULT);
            int n = piece.readableBytes();
            try {
                assertTrue(n > 0 && n <= chunk, "chunk of " + n + " bytes");
                piece.readBytes(out, (int) offset, n);
            } finally {
                piece.release();
            }
            offset += n;
        }
        return out;
    }

    @Test
    void smallBodyStaysInMemoryAndReadsBackInChunks() throws IOException {
        byte[] data = random(100_000, 1);
        try (BodyStore store = new BodyStore(1 << 20, temp)) {
            ByteBuf in = Unpooled.wrappedBuffer(data);
            store.append(in.retainedSlice(0, 60_000));
            store.append(in.retainedSlice(60_000, 40_000));
            in.release();
            assertFalse(store.onDisk());
            assertEquals(100_000, store.size());
            assertArrayEquals(data, readAll(store, 65535));
        }
    }

    @Test
    void largeBodySpillsToAFileThatNeverStaysInTheDirectory() throws IOException {
        byte[] data = random(300_000, 2);
        try (BodyStore store = new BodyStore(100_000, temp)) {
            for (int offset = 0; offset < data.length; offset += 65535) {
                ByteBuf chunk = Unpooled.wrappedBuffer(data, offset, Math.min(65535, data.length - offset));
                store.append(chunk);
                chunk.release();
            }
            assertTrue(store.onDisk());
            // Unlinked as soon as it is open: nothing is left behind even if the process dies.
            try (var entries = Files.list(temp)) {
                assertEquals(0, entries.count());
            }
            assertArrayEquals(data, readAll(store, 4096));
        }
    }

    @Test
    void clearEmptiesForReplacement() throws IOException {
        try (BodyStore store = new BodyStore(10, temp)) {
            store.append(Unpooled.wrappedBuffer(random(50, 3)));
            assertTrue(store.onDisk());
            store.clear();
            assertEquals(0, store.size());
            assertFalse(store.onDisk());
            store.append(Unpooled.copiedBuffer("new", java.nio.charset.StandardCharsets.US_ASCII));
            ByteBuf all = store.read(0, 100, ByteBufAllocator.DEFAULT);
            assertEquals("new", all.toString(java.nio.charset.StandardCharsets.US_ASCII));
            all.release();
        }
    }

    @Test
    void unwritableTempDirectoryIsAClearError() throws IOException {
        Path missing = temp.resolve("does-not-exist");
        try (BodyStore store = new BodyStore(10, missing)) {
            ByteBuf kept = Unpooled.buffer().writeBytes(random(5, 3));
            store.append(kept);
            assertEquals(2, kept.refCnt());
            BodyStore.StoreException failure = assertThrows(BodyStore.StoreException.class,
                    () -> store.append(Unpooled.wrappedBuffer(random(50, 4))));
            assertEquals("open", failure.operation());
            assertEquals(0, store.size());
            // The store gave back what it held in memory.
            assertEquals(1, kept.refCnt());
            kept.release();
        }
    }

    @Test
    void readOutsideTheBodyIsRefused() throws IOException {
        try (BodyStore store = new BodyStore(10, temp)) {
            store.append(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));
            assertThrows(IndexOutOfBoundsException.class, () -> store.read(4, 1, ByteBufAllocator.DEFAULT));
            ByteBuf empty = store.read(3, 10, ByteBufAllocator.DEFAULT);
            assertEquals(0, empty.readableBytes());
            ByteBuf all = store.read(0, 10, ByteBufAllocator.DEFAULT);
            assertEquals("010203", ByteBufUtil.hexDump(all));
            all.release();
        }
    }
}
