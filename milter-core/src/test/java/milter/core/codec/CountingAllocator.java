package milter.core.codec;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

/**
 * A heap allocator that records the largest backing array it ever made (growth included) and how many arrays
 * are still alive. Buffers grow to exactly the size asked for, so the figures reflect what the code under test
 * requested, not a rounding policy. Buffers stay leak-tracked at the configured level.
 */
final class CountingAllocator extends AbstractByteBufAllocator {
    private int largest;
    private long arrays;
    private int live;

    CountingAllocator() {
        super(false);
    }

    /** Size of the largest array made since the last reset. */
    int largest() {
        return largest;
    }

    /** Arrays made since the last reset. */
    long arrays() {
        return arrays;
    }

    /** Arrays made and not yet freed. */
    int live() {
        return live;
    }

    void reset() {
        largest = 0;
        arrays = 0;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new CountedBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return newHeapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    @Override
    public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
        if (minNewCapacity > maxCapacity) {
            throw new IllegalArgumentException("minNewCapacity " + minNewCapacity + " > maxCapacity " + maxCapacity);
        }
        return minNewCapacity;
    }

    private void allocated(int size) {
        largest = Math.max(largest, size);
        arrays++;
        live++;
    }

    private void freed() {
        live--;
    }

    private static final class CountedBuf extends UnpooledHeapByteBuf {
        CountedBuf(CountingAllocator alloc, int initialCapacity, int maxCapacity) {
            super(alloc, initialCapacity, maxCapacity);
        }

        @Override
        protected byte[] allocateArray(int initialCapacity) {
            ((CountingAllocator) alloc()).allocated(initialCapacity);
            return super.allocateArray(initialCapacity);
        }

        @Override
        protected void freeArray(byte[] array) {
            ((CountingAllocator) alloc()).freed();
            super.freeArray(array);
        }
    }
}
