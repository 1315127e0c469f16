package milter.core.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import milter.core.protocol.ByteBufMessage;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;

/**
 * Random valid messages of every kind go through the encoder and back through the decoder, in real channels,
 * and come out equal; every buffer involved is released (checked by reference counts, and by Netty's leak
 * detector at the paranoid level the build sets).
 */
class RoundTripPropertyTest {
    private static final int MAX_BODY = 200000;
    private static final int MESSAGES = 2500;
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @Test
    void commandsSurviveEncodeThenDecode() {
        long seed = Seeds.seed("commandsSurviveEncodeThenDecode", 0x6D696C746572L);
        RandomMessages random = new RandomMessages(new Random(seed), ALLOC, MAX_BODY);
        for (int i = 0; i < MESSAGES; i++) {
            int n = i;
            Command command = random.command();
            roundTrip(command, CommandEncoder.INSTANCE, new CommandDecoder(),
                    () -> "seed " + seed + ", message " + n + ": " + command);
        }
    }

    @Test
    void repliesSurviveEncodeThenDecode() {
        long seed = Seeds.seed("repliesSurviveEncodeThenDecode", 0x7265706C79L);
        RandomMessages random = new RandomMessages(new Random(seed), ALLOC, MAX_BODY);
        for (int i = 0; i < MESSAGES; i++) {
            int n = i;
            Reply reply = random.reply();
            roundTrip(reply, ReplyEncoder.INSTANCE, new ReplyDecoder(),
                    () -> "seed " + seed + ", message " + n + ": " + reply);
        }
    }

    @Test
    void commandStreamsCutAnywhereDecodeInOrder() {
        long seed = Seeds.seed("commandStreamsCutAnywhereDecodeInOrder", 0x73747265616DL);
        Random rng = new Random(seed);
        RandomMessages random = new RandomMessages(rng, ALLOC, 70000);
        for (int stream = 0; stream < 20; stream++) {
            List<Object> sent = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                sent.add(random.command());
            }
            int n = stream;
            streamRoundTrip(sent, CommandEncoder.INSTANCE, new CommandDecoder(), rng,
                    () -> "seed " + seed + ", stream " + n);
        }
    }

    @Test
    void replyStreamsCutAnywhereDecodeInOrder() {
        long seed = Seeds.seed("replyStreamsCutAnywhereDecodeInOrder", 0x7265706C6965L);
        Random rng = new Random(seed);
        RandomMessages random = new RandomMessages(rng, ALLOC, 70000);
        for (int stream = 0; stream < 20; stream++) {
            List<Object> sent = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                sent.add(random.reply());
            }
            int n = stream;
            streamRoundTrip(sent, ReplyEncoder.INSTANCE, new ReplyDecoder(), rng,
                    () -> "seed " + seed + ", stream " + n);
        }
    }

    private static void roundTrip(Object message, ChannelHandler encoder, MilterFrameDecoder decoder,
            Supplier<String> context) {
        List<Object> expected = expectedDecoding(message);
        List<ByteBuf> wire = CodecChannels.encode(encoder, toSend(message));
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        List<Object> decoded = new ArrayList<>();
        try {
            for (ByteBuf buf : wire) {
                channel.writeInbound(buf);
            }
            channel.finish();
            CodecChannels.drainInbound(channel, decoded);
            Messages.assertSameMessages(expected, decoded, context);
        } finally {
            channel.finishAndReleaseAll();
            Messages.releaseAll(decoded);
            release(message, context);
        }
    }

    private static void streamRoundTrip(List<Object> sent, ChannelHandler encoder, MilterFrameDecoder decoder,
            Random rng, Supplier<String> context) {
        List<Object> expected = new ArrayList<>();
        List<ByteBuf> wire = new ArrayList<>();
        for (Object message : sent) {
            expected.addAll(expectedDecoding(message));
            wire.addAll(CodecChannels.encode(encoder, toSend(message)));
        }
        byte[] bytes = CodecChannels.concat(wire);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        List<Object> decoded = new ArrayList<>();
        try {
            int at = 0;
            while (at < bytes.length) {
                int n = Math.min(bytes.length - at, 1 + rng.nextInt(rng.nextBoolean() ? 16 : 40000));
                ByteBuf piece = ALLOC.buffer(n).writeBytes(bytes, at, n);
                channel.writeInbound(piece);
                at += n;
            }
            channel.finish();
            CodecChannels.drainInbound(channel, decoded);
            Messages.assertSameMessages(expected, decoded, context);
        } finally {
            channel.finishAndReleaseAll();
            Messages.releaseAll(decoded);
            for (Object message : sent) {
                release(message, context);
            }
        }
    }

    /** The encoder takes over one reference; the test keeps its own to compare against. */
    private static Object toSend(Object message) {
        return message instanceof ByteBufMessage body ? body.retainedDuplicate() : message;
    }

    /** Drops the test's reference and checks that nothing else still holds the data. */
    private static void release(Object message, Supplier<String> context) {
        if (message instanceof ByteBufMessage body) {
            body.release();
            assertEquals(0, body.refCnt(), () -> context.get() + ": data still referenced after the round trip");
        }
    }

    /** What the decoder must produce: long bodies come back as maximal chunks (views of the original data). */
    static List<Object> expectedDecoding(Object message) {
        List<Object> out = new ArrayList<>();
        if (message instanceof Command.Body body) {
            chunks(body.content(), true).forEach(c -> out.add(new Command.Body(c)));
        } else if (message instanceof Reply.ReplaceBody body) {
            chunks(body.content(), true).forEach(c -> out.add(new Reply.ReplaceBody(c)));
        } else if (message instanceof Command.EndOfMessage end) {
            List<ByteBuf> chunks = chunks(end.content(), false);
            for (int i = 0; i < chunks.size() - 1; i++) {
                out.add(new Command.Body(chunks.get(i)));
            }
            out.add(new Command.EndOfMessage(chunks.get(chunks.size() - 1)));
        } else {
            out.add(message);
        }
        return out;
    }

    /**
     * Slices (not retained) of at most one chunk each: from the front for bodies, and for end-of-message data
     * with the short piece last.
     */
    private static List<ByteBuf> chunks(ByteBuf data, boolean fromFront) {
        List<ByteBuf> chunks = new ArrayList<>();
        int max = CommandEncoder.MAX_BODY_CHUNK;
        int index = data.readerIndex();
        int remaining = data.readableBytes();
        do {
            int n = fromFront || remaining <= max ? Math.min(max, remaining) : max;
            chunks.add(data.slice(index, n));
            index += n;
            remaining -= n;
        } while (remaining > 0);
        return chunks;
    }
}
