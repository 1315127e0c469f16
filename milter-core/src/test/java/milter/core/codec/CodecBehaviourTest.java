package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyCodes;
import milter.core.protocol.SocketFamily;
import org.junit.jupiter.api.Test;

/** The behaviours section 9 suggests beyond the vectors, and the codec's other promises. */
class CodecBehaviourTest {

    @Test
    void vector28FedOneByteAtATimeGivesBothPackets() {
        byte[] stream = Hex.bytes(TestVectors.V28);
        byte[][] pieces = new byte[stream.length][];
        for (int i = 0; i < stream.length; i++) {
            pieces[i] = new byte[] {stream[i]};
        }
        List<Object> decoded = CodecChannels.decode(new CommandDecoder(), pieces);
        assertEquals(List.of(
                new Command.DefineMacro(CommandType.HELO, Map.of("{tls_version}", "TLSv1.3")),
                new Command.Helo("client.example.net")), decoded);
    }

    @Test
    void aLongBodyBecomesMaximalChunksOfSlicesNotCopies() {
        byte[] data = new byte[150000];
        Arrays.fill(data, (byte) 'x');
        ByteBuf content = PooledByteBufAllocator.DEFAULT.buffer(data.length).writeBytes(data);
        content.retain(); // our own reference, to watch what the encoder does with its one
        List<ByteBuf> written = CodecChannels.encode(CommandEncoder.INSTANCE, new Command.Body(content));
        try {
            // header, slice, header, slice, header, slice
            assertEquals(6, written.size());
            int[] sizes = {65535, 65535, 18930};
            for (int i = 0; i < 3; i++) {
                ByteBuf header = written.get(2 * i);
                ByteBuf slice = written.get(2 * i + 1);
                assertEquals(5, header.readableBytes());
                assertEquals(sizes[i] + 1, header.getInt(header.readerIndex()));
                assertEquals('B', header.getByte(header.readerIndex() + 4));
                assertEquals(sizes[i], slice.readableBytes());
            }
            // Zero copy: the slices share the chunk's memory and hold references to it.
            assertEquals(1 + 3, content.refCnt());
            content.setByte(65535, 'y');
            assertEquals('y', written.get(3).getByte(written.get(3).readerIndex()));
        } finally {
            written.forEach(ByteBuf::release);
        }
        assertEquals(1, content.refCnt());
        content.release();
    }

    @Test
    void aLongBodyDecodesBackToThreeChunks() {
        byte[] data = new byte[150000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        byte[] wire = CodecChannels.encodeToBytes(CommandEncoder.INSTANCE,
                new Command.Body(Unpooled.wrappedBuffer(data)));
        assertEquals(150000 + 3 * 5, wire.length);
        List<Object> decoded = CodecChannels.decode(new CommandDecoder(), wire);
        try {
            assertEquals(3, decoded.size());
            byte[] joined = new byte[0];
            for (Object message : decoded) {
                byte[] chunk = ByteBufUtil.getBytes(assertInstanceOf(Command.Body.class, message).content());
                byte[] grown = Arrays.copyOf(joined, joined.length + chunk.length);
                System.arraycopy(chunk, 0, grown, joined.length, chunk.length);
                joined = grown;
            }
            assertArrayEquals(data, joined);
        } finally {
            Messages.releaseAll(decoded);
        }
    }

    @Test
    void decodedBodyIsASliceOfTheInputNotACopy() {
        byte[] wire = Hex.bytes(TestVectors.V21);
        ByteBuf input = Unpooled.wrappedBuffer(wire);
        EmbeddedChannel channel = new EmbeddedChannel(new CommandDecoder());
        try {
            channel.writeInbound(input);
            Command.Body body = channel.readInbound();
            wire[5] = 'J';
            assertEquals('J', body.content().getByte(body.content().readerIndex()));
            assertEquals("Jello, world!\r\n", body.content().toString(StandardCharsets.ISO_8859_1));
            body.release();
            assertEquals(0, input.refCnt(), "the decoder and the body released the input");
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void endOfMessageDataLongerThanAChunkGoesAheadAsBodyPackets() {
        byte[] data = new byte[70000];
        Arrays.fill(data, (byte) 'z');
        List<ByteBuf> written = CodecChannels.encode(CommandEncoder.INSTANCE,
                new Command.EndOfMessage(Unpooled.wrappedBuffer(data)));
        List<Object> decoded = new ArrayList<>();
        try {
            assertEquals(4, written.size());
            assertEquals('B', written.get(0).getByte(4));
            assertEquals('E', written.get(2).getByte(4));
            decoded = CodecChannels.decode(new CommandDecoder(), CodecChannels.concat(written));
            assertEquals(2, decoded.size());
            assertEquals(65535, assertInstanceOf(Command.Body.class, decoded.get(0)).content().readableBytes());
            assertEquals(70000 - 65535,
                    assertInstanceOf(Command.EndOfMessage.class, decoded.get(1)).content().readableBytes());
        } finally {
            Messages.releaseAll(decoded);
        }
    }

    @Test
    void emptyBodyIsOneEmptyPacket() {
        byte[] wire = CodecChannels.encodeToBytes(CommandEncoder.INSTANCE, new Command.Body(Unpooled.EMPTY_BUFFER));
        assertArrayEquals(Hex.bytes("00 00 00 01 42"), wire);
        byte[] replaced = CodecChannels.encodeToBytes(ReplyEncoder.INSTANCE,
                new Reply.ReplaceBody(Unpooled.EMPTY_BUFFER));
        assertArrayEquals(Hex.bytes("00 00 00 01 62"), replaced, "a single empty b empties the body");
    }

    @Test
    void replyCodeWithALonePercentIsRefusedByTheEncoder() {
        EmbeddedChannel channel = new EmbeddedChannel(ReplyEncoder.INSTANCE);
        try {
            EncoderException error = assertThrows(EncoderException.class,
                    () -> channel.writeOutbound(new Reply.ReplyCode("550 5.7.1 100% spam")));
            assertTrue(error.getMessage().contains("lone '%'"), error.getMessage());
            assertTrue(error.getMessage().contains("reply-code"), error.getMessage());
            assertNull(channel.readOutbound(), "nothing reaches the wire");
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void formattedReplyCodeDoublesPercentAndEncodes() {
        String reply = ReplyCodes.format(550, "5.7.1", "100% spam");
        assertEquals("550 5.7.1 100%% spam", reply);
        byte[] wire = CodecChannels.encodeToBytes(ReplyEncoder.INSTANCE, new Reply.ReplyCode(reply));
        List<Object> decoded = CodecChannels.decode(new ReplyDecoder(), wire);
        assertEquals(List.of(new Reply.ReplyCode("550 5.7.1 100%% spam")), decoded);
    }

    @Test
    void replyCodeWithAMismatchedOrMissingClassIsRefusedByTheEncoder() {
        for (String bad : List.of("250 2.0.0 OK", "554 3.7.1 nope", "", "55", "550-a")) {
            EmbeddedChannel channel = new EmbeddedChannel(ReplyEncoder.INSTANCE);
            try {
                assertThrows(EncoderException.class, () -> channel.writeOutbound(new Reply.ReplyCode(bad)), bad);
            } finally {
                channel.finishAndReleaseAll();
            }
        }
    }

    @Test
    void stringsWithNulAreRefusedByTheEncoders() {
        List<Object> commands = List.of(new Command.Helo("a\0b"), new Command.Header("X\0", "v"),
                new Command.EnvelopeFrom("<a>", List.of("SIZE=1\0")),
                new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "x\0y")),
                new Command.Connect("h\0", SocketFamily.INET, 25, "192.0.2.1"));
        for (Object command : commands) {
            EmbeddedChannel channel = new EmbeddedChannel(CommandEncoder.INSTANCE);
            try {
                EncoderException error = assertThrows(EncoderException.class, () -> channel.writeOutbound(command));
                assertTrue(error.getMessage().contains("NUL"), error.getMessage());
            } finally {
                channel.finishAndReleaseAll();
            }
        }
        List<Object> replies = List.of(new Reply.AddHeader("X", "a\0"), new Reply.InsertHeader(0, "X", "\0"),
                new Reply.Quarantine("\0"),
                new Reply.Negotiate(new Option(6, 0, 0, Map.of(MacroStage.CONNECT, List.of("j\0")))),
                new Reply.Negotiate(new Option(6, 0, 0, Map.of(MacroStage.CONNECT, List.of("two words")))),
                new Reply.SetSymbolList(MacroStage.HELO, List.of("a,b")),
                new Reply.AddHeader("", "empty name"),
                new Reply.ChangeHeader(-1, "X", "negative index"));
        for (Object reply : replies) {
            EmbeddedChannel channel = new EmbeddedChannel(ReplyEncoder.INSTANCE);
            try {
                assertThrows(EncoderException.class, () -> channel.writeOutbound(reply), reply::toString);
                assertNull(channel.readOutbound());
            } finally {
                channel.finishAndReleaseAll();
            }
        }
    }

    @Test
    void encoderRefusesAFrameBeyondTheLargestAnyPeerAccepts() {
        String huge = "x".repeat(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD);
        EmbeddedChannel channel = new EmbeddedChannel(CommandEncoder.INSTANCE);
        try {
            EncoderException error = assertThrows(EncoderException.class,
                    () -> channel.writeOutbound(new Command.Header("X-Huge", huge)));
            assertTrue(error.getMessage().contains("exceeds the largest frame"), error.getMessage());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void payloadLimitIsExactAndAdjustable() {
        CommandDecoder decoder = new CommandDecoder(10);
        byte[] ten = Hex.bytes("00 00 00 0B 48 61 62 63 64 65 66 67 68 69 00"); // H "abcdefghi": 10 bytes
        assertEquals(List.of(new Command.Helo("abcdefghi")), CodecChannels.decode(decoder, ten));

        byte[] eleven = Hex.bytes("00 00 00 0C 48 61 62 63 64 65 66 67 68 69 6A 00");
        MilterDecoderException error = assertThrows(MilterDecoderException.class,
                () -> CodecChannels.decode(new CommandDecoder(10), eleven));
        assertEquals(Reason.LONG_LENGTH, error.reason());

        CommandDecoder raised = new CommandDecoder(10);
        raised.setMaxPayload(11);
        assertEquals(List.of(new Command.Helo("abcdefghij")), CodecChannels.decode(raised, eleven));

        assertThrows(IllegalArgumentException.class, () -> raised.setMaxPayload(0));
        assertThrows(IllegalArgumentException.class,
                () -> raised.setMaxPayload(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD + 1));
    }

    @Test
    void aClaimedLengthIsNeverAllocatedAhead() {
        // A legal maximal length, then only a few bytes and the end of the stream.
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(new CommandDecoder());
        channel.config().setAllocator(alloc);
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(Hex.bytes("00 01 00 00")));
            channel.writeInbound(Unpooled.wrappedBuffer(Hex.bytes("42 01 02 03")));
            MilterDecoderException error = assertThrows(MilterDecoderException.class, channel::finish);
            assertEquals(Reason.UNEXPECTED_END, error.reason());
            assertTrue(error.getMessage().contains("need more 65532 bytes"), error.getMessage());
            assertTrue(alloc.largest() <= 8, "allocated " + alloc.largest());
        } finally {
            channel.finishAndReleaseAll();
        }
        assertEquals(0, alloc.live());
    }

    @Test
    void vector66IsRefusedOnlyWhenTheStreamEnds() {
        for (MilterFrameDecoder decoder : List.of(new CommandDecoder(), new ReplyDecoder())) {
            EmbeddedChannel channel = new EmbeddedChannel(decoder);
            try {
                assertFalse(channel.writeInbound(Unpooled.wrappedBuffer(Hex.bytes(TestVectors.V66))),
                        "a partial packet is buffered, not refused");
                assertFalse(decoder.failed());
                MilterDecoderException error = assertThrows(MilterDecoderException.class, channel::finish);
                assertEquals(Reason.UNEXPECTED_END, error.reason());
                assertTrue(error.getMessage().contains("need more 9 bytes"), error.getMessage());
                assertTrue(decoder.failed());
            } finally {
                channel.finishAndReleaseAll();
            }
        }
    }

    @Test
    void endOfStreamInsideTheLengthWordIsUnexpected() {
        MilterDecoderException error = assertThrows(MilterDecoderException.class,
                () -> CodecChannels.decode(new ReplyDecoder(), Hex.bytes("00 00")));
        assertEquals(Reason.UNEXPECTED_END, error.reason());
        assertTrue(error.getMessage().contains("reply length"), error.getMessage());
    }

    @Test
    void cleanEndOfStreamIsNoError() {
        assertEquals(List.of(Reply.Continue.INSTANCE),
                CodecChannels.decode(new ReplyDecoder(), Hex.bytes(TestVectors.V32)));
        assertEquals(List.of(), CodecChannels.decode(new ReplyDecoder()));
    }

    @Test
    void packetsBeforeABadOneAreStillDelivered() {
        byte[] good = Hex.bytes(TestVectors.V10);
        byte[] bad = Hex.bytes(TestVectors.V58);
        byte[] both = Arrays.copyOf(good, good.length + bad.length);
        System.arraycopy(bad, 0, both, good.length, bad.length);
        EmbeddedChannel channel = new EmbeddedChannel(new CommandDecoder());
        try {
            assertThrows(MilterDecoderException.class, () -> channel.writeInbound(Unpooled.wrappedBuffer(both)));
            assertEquals(new Command.Helo("client.example.net"), channel.readInbound());
            assertNull(channel.readInbound());
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void macroErrorsHaveTheirOwnReasons() {
        assertReason(new CommandDecoder(), "00 00 00 04 44 5A 6A 00", Reason.UNKNOWN_MACRO_STAGE); // D for 'Z'
        assertReason(new CommandDecoder(), "00 00 00 04 44 41 6A 00", Reason.UNKNOWN_MACRO_STAGE); // D for 'A'
        assertReason(new CommandDecoder(), "00 00 00 04 44 43 6A 00", Reason.WRONG_ARGUMENT_COUNT); // no value
        assertReason(new CommandDecoder(), "00 00 00 01 44", Reason.TRUNCATED_FIELD); // no stage
        // O reply with macro stage 7
        assertReason(new ReplyDecoder(), "00 00 00 13 4F 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00 07 6A 00",
                Reason.UNKNOWN_MACRO_STAGE);
        assertReason(new ReplyDecoder(), "00 00 00 0F 4F 00 00 00 06 00 00 00 00 00 00 00 00 00 00",
                Reason.TRUNCATED_FIELD);
        assertReason(new ReplyDecoder(), "00 00 00 09 6C 00 00 00 09 6A 00 00 00", Reason.UNKNOWN_MACRO_STAGE);
    }

    @Test
    void otherMalformedPacketsAreRefused() {
        assertReason(new CommandDecoder(), "00 00 00 02 54 00", Reason.TRAILING_BYTES); // T with a byte
        assertReason(new CommandDecoder(), "00 00 00 01 4D", Reason.WRONG_ARGUMENT_COUNT); // M without address
        assertReason(new CommandDecoder(), "00 00 00 03 43 68 00", Reason.TRUNCATED_FIELD); // C without family
        assertReason(new CommandDecoder(), "00 00 00 05 43 68 00 34 00", Reason.TRUNCATED_FIELD); // half a port
        assertReason(new CommandDecoder(), "00 00 00 09 43 68 00 34 00 19 31 00 00", Reason.TRAILING_BYTES);
        assertReason(new CommandDecoder(), "00 00 00 05 55 61 00 62 00", Reason.WRONG_ARGUMENT_COUNT);
        assertReason(new CommandDecoder(), "00 00 00 01 FF", Reason.UNEXPECTED_COMMAND);
        assertReason(new ReplyDecoder(), "00 00 00 01 63 00 00 00 01 6C", Reason.TRUNCATED_FIELD);
        assertReason(new ReplyDecoder(), "00 00 00 07 68 61 00 62 00 63 00", Reason.WRONG_ARGUMENT_COUNT);
        assertReason(new ReplyDecoder(), "00 00 00 05 79 35 35 30 00", null); // "550" alone is a valid code
        assertReason(new ReplyDecoder(), "00 00 00 06 79 35 35 30 78 00", Reason.INVALID_REPLY_CODE);
        assertReason(new ReplyDecoder(), "00 00 00 03 32 61 00", null); // 2 with one string
        assertReason(new ReplyDecoder(), "00 00 00 01 43", Reason.UNEXPECTED_COMMAND); // a command letter
    }

    @Test
    void lenientFormsDecodeToTheirMeaning() {
        assertEquals(List.of(new Reply.AddRecipientWithParameters("a", "")),
                CodecChannels.decode(new ReplyDecoder(), Hex.bytes("00 00 00 03 32 61 00")));
        // Unknown family followed by a port and address some MTAs add anyway.
        assertEquals(List.of(new Command.Connect("h", SocketFamily.UNKNOWN, 0, null)),
                CodecChannels.decode(new CommandDecoder(), Hex.bytes("00 00 00 07 43 68 00 55 00 00 00")));
        // Negotiate offer with bytes after the three words (libmilter ignores them).
        assertEquals(List.of(new Command.Negotiate(new Option(6, 0x1FF, 0x1FFFFF))),
                CodecChannels.decode(new CommandDecoder(),
                        Hex.bytes("00 00 00 0E 4F 00 00 00 06 00 00 01 FF 00 1F FF FF 00")));
        // Macro lists separated by commas and doubled spaces.
        assertEquals(List.of(new Reply.Negotiate(new Option(6, 0x100, 0,
                        Map.of(MacroStage.HELO, List.of("a", "{b}", "c"))))),
                CodecChannels.decode(new ReplyDecoder(), Hex.bytes(
                        "00 00 00 1A 4F 00 00 00 06 00 00 01 00 00 00 00 00 00 00 00 01 61 2C 7B 62 7D 20 20 63 00")));
        // Header indexes beyond int range stay non-negative.
        List<Object> decoded = CodecChannels.decode(new ReplyDecoder(),
                Hex.bytes("00 00 00 09 69 FF FF FF FF 61 00 62 00"));
        assertEquals(List.of(new Reply.InsertHeader(Integer.MAX_VALUE, "a", "b")), decoded);
    }

    @Test
    void setSymbolListRoundTrips() {
        Reply.SetSymbolList list = new Reply.SetSymbolList(MacroStage.END_OF_MESSAGE, List.of("i", "{msg_id}"));
        byte[] wire = CodecChannels.encodeToBytes(ReplyEncoder.INSTANCE, list);
        assertArrayEquals(Hex.bytes("00 00 00 10 6C 00 00 00 05 69 20 7B 6D 73 67 5F 69 64 7D 00"), wire);
        assertEquals(List.of(list), CodecChannels.decode(new ReplyDecoder(), wire));
    }

    @Test
    void staticEncodeMatchesTheHandler() {
        List<Object> out = new ArrayList<>();
        CommandEncoder.encode(Unpooled.buffer().alloc(), new Command.Helo("client.example.net"), out);
        byte[] bytes = CodecChannels.concat(out.stream().map(ByteBuf.class::cast).toList());
        assertArrayEquals(Hex.bytes(TestVectors.V10), bytes);
        out.clear();
        ReplyEncoder.encode(Unpooled.buffer().alloc(), Reply.Continue.INSTANCE, out);
        assertArrayEquals(Hex.bytes(TestVectors.V32),
                CodecChannels.concat(out.stream().map(ByteBuf.class::cast).toList()));
    }

    @Test
    void decoderIsNotFailedUntilItRefusesSomething() {
        CommandDecoder decoder = new CommandDecoder();
        assertFalse(decoder.failed());
        CodecChannels.decode(decoder, Hex.bytes(TestVectors.V1));
        assertFalse(decoder.failed());
    }

    private static void assertReason(MilterFrameDecoder decoder, String hex, Reason reason) {
        if (reason == null) {
            List<Object> decoded = CodecChannels.decode(decoder, Hex.bytes(hex));
            assertEquals(1, decoded.size(), hex);
            return;
        }
        MilterDecoderException error = assertThrows(MilterDecoderException.class,
                () -> CodecChannels.decode(decoder, Hex.bytes(hex)), hex);
        assertEquals(reason, error.reason(), () -> hex + ": " + error.getMessage());
        assertNull(error.getCause(), hex);
    }
}
