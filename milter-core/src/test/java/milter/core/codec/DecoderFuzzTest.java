package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;

/**
 * Bounded random input: valid frames, mutations of valid frames (flipped, truncated, extended, lengths
 * rewritten up to absurd values) and plain noise go through both decoders, each input cut at random points
 * into a fresh channel. The decoders may only emit typed messages or refuse with a
 * {@link MilterDecoderException}; they never allocate more than the frame cap plus what they were given; and
 * every buffer they allocate is released again.
 */
class DecoderFuzzTest {
    private static final int INPUTS = 100_000;
    private static final int MAX_INPUT = 131072;
    private static final int[] SPECIAL_LENGTHS = {
        0, 1, 2, 3, 4, 5, 12, 13, 65535, 65536, 65537, 262144, 1048576, 1048577, 0x7FFFFFFF, 0x80000000,
        0xFFFFFFFF, 0xFFFFFFFE, 0x01000000,
    };
    private static final byte[] CODES = "ODCHMRTLNBEAQKUcartdyspheim+2-ebqf4lZ\0\u00ff".getBytes(
            java.nio.charset.StandardCharsets.ISO_8859_1);

    /** Generation needs no leak tracking; it is not what is under test. */
    private static final ByteBufAllocator PLAIN = new UnpooledByteBufAllocator(false, true);

    private final Map<Reason, Integer> refusals = new EnumMap<>(Reason.class);
    private long messages;
    private int largestAllocation;

    @Test
    void decodersEmitOnlyTypedMessagesOrTheirOwnRefusals() {
        long seed = Seeds.seed("decodersEmitOnlyTypedMessagesOrTheirOwnRefusals", 0x66757A7AL);
        Random rng = new Random(seed);
        RandomMessages small = new RandomMessages(rng, PLAIN, 600);
        RandomMessages large = new RandomMessages(rng, PLAIN, 70000);
        CountingAllocator alloc = new CountingAllocator();
        for (int i = 0; i < INPUTS; i++) {
            RandomMessages source = rng.nextInt(200) == 0 ? large : small;
            byte[] input = nextInput(rng, source);
            int[] cuts = cuts(rng, input.length);
            int maxPayload = rng.nextInt(10) == 0 ? 1 + rng.nextInt(300) : MilterFrameDecoder.DEFAULT_MAX_PAYLOAD;
            int n = i;
            Supplier<String> context = () -> "seed " + seed + ", input " + n + ", max payload " + maxPayload
                    + ", cuts " + Arrays.toString(cuts) + ": " + Hex.head(input, 96);
            run(new CommandDecoder(maxPayload), Command.class, CommandEncoder.INSTANCE, input, cuts, alloc, context);
            run(new ReplyDecoder(maxPayload), Reply.class, ReplyEncoder.INSTANCE, input, cuts, alloc, context);
        }
        System.out.println("fuzz: " + 2L * INPUTS + " decoder runs, " + messages + " messages, refusals "
                + refusals + ", largest allocation " + largestAllocation + " bytes");
        // The inputs must actually reach both outcomes and the decoders' distinct checks.
        assertTrue(messages > INPUTS / 10, "messages decoded: " + messages);
        Set<Reason> expected = EnumSet.of(Reason.SHORT_LENGTH, Reason.LONG_LENGTH, Reason.UNEXPECTED_END,
                Reason.UNEXPECTED_COMMAND, Reason.MISSING_NUL, Reason.TRUNCATED_FIELD, Reason.TRAILING_BYTES,
                Reason.WRONG_ARGUMENT_COUNT, Reason.UNKNOWN_FAMILY, Reason.UNKNOWN_MACRO_STAGE,
                Reason.INVALID_REPLY_CODE);
        assertTrue(refusals.keySet().containsAll(expected), "refusal reasons seen: " + refusals.keySet());
    }

    private void run(MilterFrameDecoder decoder, Class<?> kind, ChannelHandler encoder, byte[] input, int[] cuts,
            CountingAllocator alloc, Supplier<String> context) {
        alloc.reset();
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.config().setAllocator(alloc);
        List<Object> out = new ArrayList<>();
        Throwable error = null;
        try {
            int from = 0;
            for (int cut : cuts) {
                // A copy: a wrapped array may become the cumulation, which the decoder compacts in place, and the
                // same input goes to the other decoder next.
                channel.writeInbound(Unpooled.copiedBuffer(input, from, cut - from));
                CodecChannels.drainInbound(channel, out);
                from = cut;
            }
            channel.finish();
        } catch (Throwable t) {
            error = t;
        } finally {
            CodecChannels.drainInbound(channel, out);
            channel.finishAndReleaseAll();
        }
        try {
            if (error instanceof MilterDecoderException refused) {
                if (refused.getCause() != null) {
                    fail(context.get() + ": refused through the safety net\n" + stackTrace(refused));
                }
                assertTrue(decoder.failed(), context);
                refusals.merge(refused.reason(), 1, Integer::sum);
            } else if (error != null) {
                fail(context.get() + ": " + decoder.getClass().getSimpleName() + " threw\n" + stackTrace(error));
            }
            for (Object message : out) {
                if (!kind.isInstance(message)) {
                    fail(context.get() + ": emitted " + message.getClass());
                }
                assertStable(message, encoder, decoder, context);
                messages++;
            }
        } finally {
            Messages.releaseAll(out);
        }
        largestAllocation = Math.max(largestAllocation, alloc.largest());
        int cap = decoder.maxPayload() + 5 + input.length;
        assertTrue(alloc.largest() <= cap, () -> context.get() + ": allocated " + alloc.largest() + " > " + cap);
        assertEquals(0, alloc.live(), () -> context.get() + ": buffers left unreleased");
    }

    /** Whatever was decoded and can be encoded again decodes to the same message. */
    private static void assertStable(Object message, ChannelHandler encoder, MilterFrameDecoder decoder,
            Supplier<String> context) {
        List<Object> wire = new ArrayList<>();
        try {
            if (message instanceof Command command) {
                CommandEncoder.encode(PLAIN, command, wire);
            } else {
                ReplyEncoder.encode(PLAIN, (Reply) message, wire);
            }
        } catch (EncoderException e) {
            // Lenient decoding, strict encoding: e.g. a reply code with a lone % or an empty header name.
            Messages.releaseAll(wire);
            return;
        }
        byte[] bytes = CodecChannels.concat(wire.stream().map(ByteBuf.class::cast).toList());
        MilterFrameDecoder fresh = decoder instanceof CommandDecoder
                ? new CommandDecoder(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD)
                : new ReplyDecoder(MilterFrameDecoder.ABSOLUTE_MAX_PAYLOAD);
        List<Object> again = CodecChannels.decode(fresh, bytes);
        try {
            List<Object> expected = RoundTripPropertyTest.expectedDecoding(message);
            Messages.assertSameMessages(expected, again, () -> context.get() + ": re-encoded " + message);
        } finally {
            Messages.releaseAll(again);
        }
    }

    private static byte[] nextInput(Random rng, RandomMessages source) {
        int roll = rng.nextInt(100);
        byte[] input;
        if (roll < 15) {
            input = validFrames(rng, source);
        } else if (roll < 88) {
            input = validFrames(rng, source);
            int mutations = 1 + rng.nextInt(3);
            for (int i = 0; i < mutations; i++) {
                input = mutate(rng, input);
            }
        } else {
            input = noise(rng);
        }
        return input.length > MAX_INPUT ? Arrays.copyOf(input, MAX_INPUT) : input;
    }

    private static byte[] validFrames(Random rng, RandomMessages source) {
        int frames = 1 + (rng.nextInt(4) == 0 ? rng.nextInt(3) : 0);
        List<Object> wire = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            if (rng.nextBoolean()) {
                Command command = source.command();
                try {
                    CommandEncoder.encode(PLAIN, command, wire);
                } finally {
                    io.netty.util.ReferenceCountUtil.release(command);
                }
            } else {
                Reply reply = source.reply();
                try {
                    ReplyEncoder.encode(PLAIN, reply, wire);
                } finally {
                    io.netty.util.ReferenceCountUtil.release(reply);
                }
            }
        }
        return CodecChannels.concat(wire.stream().map(ByteBuf.class::cast).toList());
    }

    private static byte[] mutate(Random rng, byte[] input) {
        if (input.length == 0) {
            return noise(rng);
        }
        switch (rng.nextInt(8)) {
            case 0: { // flip bits
                byte[] out = input.clone();
                int flips = 1 + rng.nextInt(4);
                for (int i = 0; i < flips; i++) {
                    out[rng.nextInt(out.length)] ^= (byte) (1 << rng.nextInt(8));
                }
                return out;
            }
            case 1: { // replace bytes
                byte[] out = input.clone();
                out[rng.nextInt(out.length)] = (byte) rng.nextInt(256);
                return out;
            }
            case 2: // truncate
                return Arrays.copyOf(input, rng.nextInt(input.length));
            case 3: { // extend with noise
                byte[] tail = new byte[1 + rng.nextInt(32)];
                rng.nextBytes(tail);
                byte[] out = Arrays.copyOf(input, input.length + tail.length);
                System.arraycopy(tail, 0, out, input.length, tail.length);
                return out;
            }
            case 4: { // rewrite the length word, often to something absurd
                byte[] out = input.length >= 4 ? input.clone() : Arrays.copyOf(input, 4);
                int length = rng.nextBoolean() ? SPECIAL_LENGTHS[rng.nextInt(SPECIAL_LENGTHS.length)]
                        : rng.nextBoolean() ? rng.nextInt(input.length + 8) : rng.nextInt();
                out[0] = (byte) (length >>> 24);
                out[1] = (byte) (length >>> 16);
                out[2] = (byte) (length >>> 8);
                out[3] = (byte) length;
                return out;
            }
            case 5: { // another packet letter
                byte[] out = input.length >= 5 ? input.clone() : Arrays.copyOf(input, 5);
                out[4] = CODES[rng.nextInt(CODES.length)];
                return out;
            }
            case 6: { // drop a byte (often a NUL terminator) without fixing the length
                int at = rng.nextInt(input.length);
                for (int i = input.length - 1; i >= 0 && rng.nextBoolean(); i--) {
                    if (input[i] == 0) {
                        at = i;
                        break;
                    }
                }
                byte[] out = new byte[input.length - 1];
                System.arraycopy(input, 0, out, 0, at);
                System.arraycopy(input, at + 1, out, at, input.length - at - 1);
                return out;
            }
            default: { // insert a NUL or a random byte
                int at = rng.nextInt(input.length + 1);
                byte[] out = new byte[input.length + 1];
                System.arraycopy(input, 0, out, 0, at);
                out[at] = rng.nextBoolean() ? 0 : (byte) rng.nextInt(256);
                System.arraycopy(input, at, out, at + 1, input.length - at);
                return out;
            }
        }
    }

    /** Random bytes, half of them behind a plausible length word and packet letter. */
    private static byte[] noise(Random rng) {
        byte[] payload = new byte[rng.nextInt(48)];
        rng.nextBytes(payload);
        if (rng.nextBoolean()) {
            return payload;
        }
        byte[] out = new byte[payload.length + 5];
        int length = payload.length + 1;
        out[2] = (byte) (length >>> 8);
        out[3] = (byte) length;
        out[4] = CODES[rng.nextInt(CODES.length)];
        System.arraycopy(payload, 0, out, 5, payload.length);
        return out;
    }

    /** Ascending cut points ending at {@code length}: the input arrives in one to five reads. */
    private static int[] cuts(Random rng, int length) {
        int pieces = length == 0 ? 1 : 1 + rng.nextInt(Math.min(5, length));
        int[] cuts = new int[pieces];
        for (int i = 0; i < pieces - 1; i++) {
            cuts[i] = rng.nextInt(length + 1);
        }
        cuts[pieces - 1] = length;
        Arrays.sort(cuts);
        return cuts;
    }

    private static String stackTrace(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
