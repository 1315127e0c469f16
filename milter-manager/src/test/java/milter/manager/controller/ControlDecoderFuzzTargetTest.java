package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Coverage-guided fuzz target for the control socket's input: {@link ControlFrameDecoder} in an
 * {@link EmbeddedChannel}, then {@link ControlCodec#decode} on every payload. A stream either yields payloads no
 * longer than the limit, or stops with {@link TooLongFrameException} (nothing else); the same stream cut
 * anywhere into reads yields the same payloads and the same stop; each payload is a packet or a
 * {@link ControlProtocolException}, and a packet whose name is valid UTF-8 encodes back to exactly its payload.
 * Seeds: {@code src/test/resources/milter/manager/controller/ControlDecoderFuzzTargetTestInputs/decode}.
 */
class ControlDecoderFuzzTargetTest {

    @FuzzTest(maxDuration = "10s")
    void decode(FuzzedDataProvider data) {
        int maxPayload = data.consumeBoolean() ? data.consumeInt(0, 300) : ControlCodec.DEFAULT_MAX_PAYLOAD;
        int[] cuts = new int[data.consumeInt(0, 4)];
        int[] fractions = new int[cuts.length];
        for (int i = 0; i < fractions.length; i++) {
            fractions[i] = data.consumeInt(0, 1 << 16);
        }
        byte[] stream = data.consumeRemainingAsBytes();
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (int) ((long) fractions[i] * stream.length >> 16);
        }
        Arrays.sort(cuts);
        String context = "max " + maxPayload + ", cuts " + Arrays.toString(cuts) + ", " + stream.length + " bytes";

        Outcome whole = run(stream, new int[0], maxPayload, context);
        Outcome split = run(stream, cuts, maxPayload, context);
        assertEquals(whole.payloads.size(), split.payloads.size(), context);
        for (int i = 0; i < whole.payloads.size(); i++) {
            assertArrayEquals(whole.payloads.get(i), split.payloads.get(i), context);
        }
        assertEquals(whole.tooLong, split.tooLong, context);

        for (byte[] payload : whole.payloads) {
            assertTrue(payload.length <= maxPayload, context);
            ControlPacket packet;
            try {
                packet = ControlCodec.decode(payload);
            } catch (ControlProtocolException refused) {
                continue;
            }
            byte[] name = Arrays.copyOf(payload, indexOfNul(payload));
            if (Arrays.equals(name, packet.name().getBytes(StandardCharsets.UTF_8))) {
                byte[] frame = ControlCodec.encode(packet);
                assertArrayEquals(payload, Arrays.copyOfRange(frame, 4, frame.length), context);
            }
        }
    }

    private static Outcome run(byte[] stream, int[] cuts, int maxPayload, String context) {
        EmbeddedChannel channel = new EmbeddedChannel(new ControlFrameDecoder(maxPayload));
        Outcome outcome = new Outcome();
        try {
            int from = 0;
            for (int i = 0; i <= cuts.length; i++) {
                int to = i < cuts.length ? cuts[i] : stream.length;
                channel.writeInbound(Unpooled.copiedBuffer(stream, from, to - from));
                drain(channel, outcome);
                from = to;
            }
        } catch (TooLongFrameException e) {
            outcome.tooLong = true;
        } catch (RuntimeException e) {
            throw new AssertionError(context + ": the frame decoder threw " + e, e);
        } finally {
            drain(channel, outcome);
            channel.finishAndReleaseAll();
        }
        return outcome;
    }

    private static void drain(EmbeddedChannel channel, Outcome outcome) {
        Object message;
        while ((message = channel.readInbound()) != null) {
            ByteBuf payload = (ByteBuf) message;
            outcome.payloads.add(ByteBufUtil.getBytes(payload));
            payload.release();
        }
    }

    private static int indexOfNul(byte[] payload) {
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                return i;
            }
        }
        return payload.length;
    }

    private static final class Outcome {
        final List<byte[]> payloads = new ArrayList<>();
        boolean tooLong;
    }
}
