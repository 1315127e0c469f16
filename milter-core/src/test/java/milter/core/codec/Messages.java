package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBufUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.function.Supplier;
import milter.core.protocol.ByteBufMessage;

/** Comparing and releasing decoded messages. */
final class Messages {
    private Messages() {
    }

    /** Equal kinds and values; body-carrying messages compared byte by byte. */
    static void assertSameMessages(List<?> expected, List<?> actual, Supplier<String> context) {
        assertEquals(expected.size(), actual.size(), () -> context.get() + ": message count, got " + actual);
        for (int i = 0; i < expected.size(); i++) {
            assertSameMessage(expected.get(i), actual.get(i), context);
        }
    }

    static void assertSameMessage(Object expected, Object actual, Supplier<String> context) {
        assertSame(expected.getClass(), actual.getClass(), () -> context.get() + ": kind");
        if (expected instanceof ByteBufMessage e) {
            ByteBufMessage a = (ByteBufMessage) actual;
            assertArrayEquals(ByteBufUtil.getBytes(e.content()), ByteBufUtil.getBytes(a.content()),
                    () -> context.get() + ": content of " + actual);
        }
        assertEquals(expected, actual, context);
    }

    static void releaseAll(List<?> messages) {
        for (Object message : messages) {
            ReferenceCountUtil.release(message);
        }
    }
}
