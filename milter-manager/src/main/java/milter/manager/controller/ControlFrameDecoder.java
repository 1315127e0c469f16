package milter.manager.controller;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;
import java.util.List;

/**
 * Splits the byte stream into payloads: a 32-bit big-endian length, then that many bytes. A length above the
 * bound fails at once (before anything of it is buffered): controller input is untrusted like any other.
 */
final class ControlFrameDecoder extends ByteToMessageDecoder {
    private final int maxPayload;

    ControlFrameDecoder(int maxPayload) {
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) throws TooLongFrameException {
        if (in.readableBytes() < 4) {
            return;
        }
        long length = in.getUnsignedInt(in.readerIndex());
        if (length > maxPayload) {
            in.skipBytes(in.readableBytes());
            throw new TooLongFrameException("control packet too large: <" + length + "> bytes (at most <" + maxPayload
                    + ">)");
        }
        if (in.readableBytes() < 4 + length) {
            return;
        }
        in.skipBytes(4);
        out.add(in.readRetainedSlice((int) length));
    }
}
