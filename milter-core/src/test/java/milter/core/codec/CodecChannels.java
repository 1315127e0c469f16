package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/** Runs codec handlers in {@link EmbeddedChannel}s, the way a pipeline would. */
final class CodecChannels {
    private CodecChannels() {
    }

    /**
     * Feeds each chunk to a fresh channel holding {@code decoder}, closes the input (so end-of-stream checks run)
     * and returns what came out. Exceptions from the decoder propagate; the channel is cleaned up either way.
     */
    static List<Object> decode(ChannelHandler decoder, byte[]... chunks) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        List<Object> out = new ArrayList<>();
        try {
            for (byte[] chunk : chunks) {
                channel.writeInbound(Unpooled.wrappedBuffer(chunk));
                drainInbound(channel, out);
            }
            channel.finish();
            drainInbound(channel, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(ReferenceCountUtil::release);
            throw e;
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    static void drainInbound(EmbeddedChannel channel, List<Object> out) {
        Object message;
        while ((message = channel.readInbound()) != null) {
            out.add(message);
        }
    }

    /** The buffers {@code encoder} writes for one message (the message's own reference is handed over). */
    static List<ByteBuf> encode(ChannelHandler encoder, Object message) {
        EmbeddedChannel channel = new EmbeddedChannel(encoder);
        List<ByteBuf> out = new ArrayList<>();
        try {
            channel.writeOutbound(message);
            ByteBuf buf;
            while ((buf = channel.readOutbound()) != null) {
                out.add(buf);
            }
            return out;
        } catch (RuntimeException | Error e) {
            out.forEach(ByteBuf::release);
            throw e;
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    /** The bytes {@code encoder} writes for one message. */
    static byte[] encodeToBytes(ChannelHandler encoder, Object message) {
        return concat(encode(encoder, message));
    }

    /** Concatenates and releases the buffers. */
    static byte[] concat(List<ByteBuf> buffers) {
        int size = 0;
        for (ByteBuf buf : buffers) {
            size += buf.readableBytes();
        }
        byte[] all = new byte[size];
        int at = 0;
        for (ByteBuf buf : buffers) {
            int n = buf.readableBytes();
            buf.getBytes(buf.readerIndex(), all, at, n);
            at += n;
            buf.release();
        }
        return all;
    }

    static byte[] bytes(ByteBuf buf) {
        return ByteBufUtil.getBytes(buf);
    }
}
