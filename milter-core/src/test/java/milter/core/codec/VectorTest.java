package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import milter.core.codec.TestVectors.Invalid;
import milter.core.codec.TestVectors.Valid;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every vector of the specification's section 9 through the real handlers, in both directions. */
class VectorTest {

    static Stream<Valid> commands() {
        return TestVectors.commands().stream();
    }

    static Stream<Valid> replies() {
        return TestVectors.replies().stream();
    }

    static Stream<Invalid> commandSideRejects() {
        return TestVectors.invalid().stream().filter(Invalid::commandSide);
    }

    static Stream<Invalid> replySideRejects() {
        return TestVectors.invalid().stream().filter(Invalid::replySide);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void commandDecoderGivesTheTypedCommand(Valid vector) {
        assertDecodes(new CommandDecoder(), vector, Command.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void commandEncoderWritesTheExactBytes(Valid vector) {
        assertEncodes(CommandEncoder.INSTANCE, vector);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void commandDecoderCopesWithAnySplit(Valid vector) {
        assertDecodesInPieces(new CommandDecoder(), vector);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replies")
    void replyDecoderGivesTheTypedReply(Valid vector) {
        assertDecodes(new ReplyDecoder(), vector, Reply.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replies")
    void replyEncoderWritesTheExactBytes(Valid vector) {
        assertEncodes(ReplyEncoder.INSTANCE, vector);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replies")
    void replyDecoderCopesWithAnySplit(Valid vector) {
        assertDecodesInPieces(new ReplyDecoder(), vector);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commandSideRejects")
    void commandDecoderRefuses(Invalid vector) {
        assertRefused(new CommandDecoder(), vector);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("replySideRejects")
    void replyDecoderRefuses(Invalid vector) {
        assertRefused(new ReplyDecoder(), vector);
    }

    private static void assertDecodes(ChannelHandler decoder, Valid vector, Class<?> kind) {
        List<Object> expected = vector.messages().get();
        List<Object> decoded = CodecChannels.decode(decoder, vector.bytes());
        try {
            decoded.forEach(m -> assertTrue(kind.isInstance(m), () -> vector + ": " + m + " is no " + kind));
            Messages.assertSameMessages(expected, decoded, vector::toString);
        } finally {
            Messages.releaseAll(expected);
            Messages.releaseAll(decoded);
        }
    }

    private static void assertEncodes(ChannelHandler encoder, Valid vector) {
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        for (Object message : vector.messages().get()) {
            written.writeBytes(CodecChannels.encodeToBytes(encoder, message));
        }
        byte[] actual = written.toByteArray();
        assertArrayEquals(vector.bytes(), actual, () -> vector + ": expected " + Hex.head(vector.bytes(), 64)
                + " but was " + Hex.head(actual, 64));
    }

    /** One byte at a time for short vectors; odd-sized pieces for the maximal chunk. */
    private static void assertDecodesInPieces(MilterFrameDecoder decoder, Valid vector) {
        byte[] bytes = vector.bytes();
        int piece = bytes.length > 1000 ? 4093 : 1;
        byte[][] pieces = new byte[(bytes.length + piece - 1) / piece][];
        for (int i = 0; i < pieces.length; i++) {
            int from = i * piece;
            pieces[i] = java.util.Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + piece));
        }
        List<Object> expected = vector.messages().get();
        List<Object> decoded = CodecChannels.decode(decoder, pieces);
        try {
            Messages.assertSameMessages(expected, decoded, () -> vector + " in pieces of " + piece);
        } finally {
            Messages.releaseAll(expected);
            Messages.releaseAll(decoded);
        }
    }

    private static void assertRefused(MilterFrameDecoder decoder, Invalid vector) {
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.config().setAllocator(alloc);
        Supplier<String> context = vector::toString;
        try {
            // The length word and the rest arrive separately, so the decoder has to buffer (and could
            // over-allocate) between the two reads. A bad length is refused as soon as its four bytes are in.
            byte[] bytes = vector.bytes();
            int split = Math.min(4, bytes.length);
            MilterDecoderException error = assertThrows(MilterDecoderException.class, () -> {
                channel.writeInbound(Unpooled.wrappedBuffer(bytes, 0, split));
                if (bytes.length > split) {
                    channel.writeInbound(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
                }
                channel.finish();
            }, context);
            assertEquals(vector.reason(), error.reason(), () -> vector + ": " + error.getMessage());
            assertNull(error.getCause(), context);
            assertNull(channel.readInbound(), () -> vector + ": nothing is emitted");
            assertTrue(decoder.failed(), context);
            assertTrue(alloc.largest() <= bytes.length, () -> vector + ": allocated " + alloc.largest() + " bytes");
        } finally {
            channel.finishAndReleaseAll();
        }
        assertEquals(0, alloc.live(), () -> vector + ": buffers left unreleased");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commandSideRejects")
    void nothingIsDecodedAfterARefusal(Invalid vector) {
        CommandDecoder decoder = new CommandDecoder();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        try {
            assertThrows(MilterDecoderException.class, () -> {
                channel.writeInbound(Unpooled.wrappedBuffer(vector.bytes()));
                channel.finish();
            });
            // Had the stream been resynchronised, this valid HELO would come out.
            if (channel.isOpen()) {
                assertFalse(channel.writeInbound(Unpooled.wrappedBuffer(Hex.bytes(TestVectors.V10))));
            }
            assertNull(channel.readInbound());
        } finally {
            channel.finishAndReleaseAll();
        }
    }
}
