package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;

/**
 * Coverage-guided fuzz targets for the three decoders, run through {@link EmbeddedChannel}s as a pipeline runs
 * them. In the normal build they replay the seed corpus under {@code src/test/resources/.../
 * DecoderFuzzTargetTestInputs/<method>}; with {@code JAZZER_FUZZ=1} Jazzer mutates inputs for the given time
 * (see {@code docs/reliability.md}).
 *
 * <p>Each input is one stream of bytes plus, drawn from its end, the decoder's payload limit and where the
 * stream is cut into reads. Invariants: the decoder emits only typed messages or refuses with a
 * {@link MilterDecoderException} of its own (never through the safety net, never another exception); the same
 * stream gives the same messages and the same refusal however it is cut; no buffer is allocated beyond what
 * was fed in; nothing is left unreleased; whatever decodes and re-encodes decodes to the same message.
 */
class DecoderFuzzTargetTest {
    private static final ByteBufAllocator PLAIN = new UnpooledByteBufAllocator(false, true);

    @FuzzTest(maxDuration = "10s")
    void commandDecoder(FuzzedDataProvider data) {
        Input input = Input.of(data);
        Outcome whole = decode(new CommandDecoder(input.maxPayload), Command.class, input, new int[0]);
        Outcome split = decode(new CommandDecoder(input.maxPayload), Command.class, input, input.cuts);
        try {
            assertSameOutcome(whole, split, input);
            for (Object message : whole.messages) {
                assertStable(message, true, input);
            }
        } finally {
            whole.release();
            split.release();
        }
    }

    @FuzzTest(maxDuration = "10s")
    void replyDecoder(FuzzedDataProvider data) {
        Input input = Input.of(data);
        Outcome whole = decode(new ReplyDecoder(input.maxPayload), Reply.class, input, new int[0]);
        Outcome split = decode(new ReplyDecoder(input.maxPayload), Reply.class, input, input.cuts);
        try {
            assertSameOutcome(whole, split, input);
            for (Object message : whole.messages) {
                assertStable(message, false, input);
            }
        } finally {
            whole.release();
            split.release();
        }
    }

    /**
     * The framing alone: a decoder that hands out every frame raw. Frames never exceed the limit in force, the
     * frames re-assembled are exactly the bytes consumed, and only the framing reasons can refuse. The limit may
     * be raised after the first frame, as a negotiated max-data-size does.
     */
    @FuzzTest(maxDuration = "10s")
    void frameDecoder(FuzzedDataProvider data) {
        int raiseTo = data.consumeBoolean() ? data.consumeInt(1, MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD) : 0;
        Input input = Input.of(data);
        Outcome whole = decode(new RawFrameDecoder(input.maxPayload, raiseTo), RawFrame.class, input, new int[0]);
        Outcome split = decode(new RawFrameDecoder(input.maxPayload, raiseTo), RawFrame.class, input, input.cuts);
        assertSameOutcome(whole, split, input);
        if (whole.refusal != null) {
            Reason reason = whole.refusal.reason();
            assertTrue(reason == Reason.SHORT_LENGTH || reason == Reason.LONG_LENGTH
                    || reason == Reason.UNEXPECTED_END, () -> input + ": framing refused with " + reason);
        }
        int limit = input.maxPayload;
        ByteBuf rebuilt = Unpooled.buffer();
        for (Object message : whole.messages) {
            RawFrame frame = (RawFrame) message;
            int cap = limit;
            assertTrue(frame.payload.length <= cap, () -> input + ": frame of " + frame.payload.length
                    + " bytes passed a limit of " + cap);
            rebuilt.writeInt(frame.payload.length + 1).writeByte(frame.code).writeBytes(frame.payload);
            if (raiseTo > 0) {
                limit = raiseTo;
            }
        }
        byte[] consumed = Arrays.copyOf(input.stream, rebuilt.readableBytes());
        assertEquals(Hex.of(consumed), Hex.of(ByteBufUtil.getBytes(rebuilt)), () -> input + ": frames");
        if (whole.refusal == null) {
            assertEquals(input.stream.length, rebuilt.readableBytes(), () -> input + ": bytes left undecoded");
        }
        whole.release();
        split.release();
    }

    // ------------------------------------------------------------------ running a decoder

    private static Outcome decode(MilterFrameDecoder decoder, Class<?> kind, Input input, int[] cuts) {
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.config().setAllocator(alloc);
        Outcome outcome = new Outcome(alloc, input);
        try {
            int from = 0;
            for (int cut : cuts) {
                // Copies: a wrapped array may become the decoder's cumulation, which compacts it in place.
                channel.writeInbound(Unpooled.copiedBuffer(input.stream, from, cut - from));
                CodecChannels.drainInbound(channel, outcome.messages);
                from = cut;
            }
            channel.writeInbound(Unpooled.copiedBuffer(input.stream, from, input.stream.length - from));
            CodecChannels.drainInbound(channel, outcome.messages);
            channel.finish();
        } catch (MilterDecoderException e) {
            outcome.refusal = e;
        } catch (Throwable t) {
            CodecChannels.drainInbound(channel, outcome.messages);
            channel.finishAndReleaseAll();
            Messages.releaseAll(outcome.messages);
            throw new AssertionError(input + ": " + decoder.getClass().getSimpleName() + " threw " + t, t);
        }
        CodecChannels.drainInbound(channel, outcome.messages);
        channel.finishAndReleaseAll();
        try {
            if (outcome.refusal != null) {
                if (outcome.refusal.getCause() != null) {
                    throw new AssertionError(input + ": refused through the safety net: " + outcome.refusal,
                            outcome.refusal);
                }
                assertTrue(decoder.failed(), () -> input + ": refused but not marked failed");
            }
            for (Object message : outcome.messages) {
                if (!kind.isInstance(message)) {
                    fail(input + ": emitted " + message.getClass());
                }
            }
            // The cumulation may hold what was fed in, never what a length word merely announces.
            int cap = Math.max(input.stream.length, 1);
            assertTrue(alloc.largest() <= cap, () -> input + ": allocated " + alloc.largest() + " bytes, fed "
                    + input.stream.length);
        } catch (RuntimeException | Error e) {
            Messages.releaseAll(outcome.messages);
            throw e;
        }
        return outcome;
    }

    private static void assertSameOutcome(Outcome whole, Outcome split, Input input) {
        Messages.assertSameMessages(whole.messages, split.messages, () -> input + ": whole vs cut "
                + Arrays.toString(input.cuts));
        Reason wholeReason = whole.refusal == null ? null : whole.refusal.reason();
        Reason splitReason = split.refusal == null ? null : split.refusal.reason();
        assertEquals(wholeReason, splitReason, () -> input + ": refusal, whole vs cut " + Arrays.toString(input.cuts));
    }

    /** Whatever was decoded and can be encoded again decodes to the same message. */
    private static void assertStable(Object message, boolean command, Input input) {
        List<Object> wire = new ArrayList<>();
        try {
            if (command) {
                CommandEncoder.encode(PLAIN, (Command) message, wire);
            } else {
                ReplyEncoder.encode(PLAIN, (Reply) message, wire);
            }
        } catch (EncoderException e) {
            // Lenient decoding, strict encoding (a reply code with a lone %, an empty header name...).
            Messages.releaseAll(wire);
            return;
        }
        byte[] bytes = CodecChannels.concat(wire.stream().map(ByteBuf.class::cast).toList());
        MilterFrameDecoder fresh = command ? new CommandDecoder(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD)
                : new ReplyDecoder(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD);
        List<Object> again = CodecChannels.decode(fresh, bytes);
        try {
            Messages.assertSameMessages(RoundTripPropertyTest.expectedDecoding(message), again,
                    () -> input + ": re-encoded " + message);
        } finally {
            Messages.releaseAll(again);
        }
    }

    // ------------------------------------------------------------------ inputs and outcomes

    /** The stream and how it is fed: payload limit and cut points come from the end of the fuzz input. */
    private static final class Input {
        final int maxPayload;
        final int[] cuts;
        final byte[] stream;

        private Input(int maxPayload, int[] cuts, byte[] stream) {
            this.maxPayload = maxPayload;
            this.cuts = cuts;
            this.stream = stream;
        }

        static Input of(FuzzedDataProvider data) {
            int maxPayload = data.consumeBoolean() ? data.consumeInt(1, 300) : MilterFrameDecoder.DEFAULT_MAX_PAYLOAD;
            int[] fractions = new int[data.consumeInt(0, 4)];
            for (int i = 0; i < fractions.length; i++) {
                fractions[i] = data.consumeInt(0, 1 << 16);
            }
            byte[] stream = data.consumeRemainingAsBytes();
            int[] cuts = new int[fractions.length];
            for (int i = 0; i < cuts.length; i++) {
                cuts[i] = (int) ((long) fractions[i] * stream.length >> 16);
            }
            Arrays.sort(cuts);
            return new Input(maxPayload, cuts, stream);
        }

        @Override
        public String toString() {
            return "max payload " + maxPayload + ", cuts " + Arrays.toString(cuts) + ", " + stream.length + " bytes: "
                    + Hex.head(stream, 96);
        }
    }

    /** What a decoder produced. Releasing the messages must free every buffer the decoder allocated. */
    private static final class Outcome {
        final List<Object> messages = new ArrayList<>();
        final CountingAllocator alloc;
        final Input input;
        MilterDecoderException refusal;

        Outcome(CountingAllocator alloc, Input input) {
            this.alloc = alloc;
            this.input = input;
        }

        void release() {
            Messages.releaseAll(messages);
            messages.clear();
            assertEquals(0, alloc.live(), () -> input + ": buffers left unreleased");
        }
    }

    /** One frame as the framing layer cut it. */
    record RawFrame(int code, byte[] payload) {
        @Override
        public boolean equals(Object other) {
            return other instanceof RawFrame frame && frame.code == code && Arrays.equals(frame.payload, payload);
        }

        @Override
        public int hashCode() {
            return 31 * code + Arrays.hashCode(payload);
        }

        @Override
        public String toString() {
            return "RawFrame[" + code + ", " + Hex.head(payload, 32) + "]";
        }
    }

    /** The frame decoder with no payload grammar: every frame is handed out as it is. */
    private static final class RawFrameDecoder extends MilterFrameDecoder {
        private final int raiseTo;

        RawFrameDecoder(int maxPayload, int raiseTo) {
            super(maxPayload);
            this.raiseTo = raiseTo;
        }

        @Override
        protected String side() {
            return "frame";
        }

        @Override
        protected Object decodePayload(int code, ByteBuf payload) {
            RawFrame frame = new RawFrame(code, ByteBufUtil.getBytes(payload));
            if (raiseTo > 0) {
                setMaxPayload(raiseTo);
            }
            return frame;
        }
    }
}
