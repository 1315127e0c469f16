package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import milter.core.codec.MilterDecoderException.Reason;

/**
 * Splits the stream into {@code length + code + payload} frames and hands each payload to
 * {@link #decodePayload}. The length is checked before anything is buffered for it, so a peer can never make
 * us hold more than {@link #maxPayload()} bytes for one frame. After the first error every further byte is
 * discarded: the stream cannot be resynchronised.
 */
public abstract class MilterFrameDecoder extends ByteToMessageDecoder {
    /** The default payload limit of libmilter, Sendmail and Postfix. */
    public static final int DEFAULT_MAX_PAYLOAD = 65535;
    /** No frame is ever accepted beyond this, whatever was negotiated (the 1M extension's size). */
    public static final int ABSOLUTE_MAX_PAYLOAD = 1048575;

    private int maxPayload;
    private boolean failed;

    protected MilterFrameDecoder(int maxPayload) {
        setMaxPayload(maxPayload);
    }

    /** Largest payload accepted now. */
    public int maxPayload() {
        return maxPayload;
    }

    /** Raises or lowers the payload limit (after a negotiated max-data-size), never past the absolute ceiling. */
    public void setMaxPayload(int maxPayload) {
        if (maxPayload < 1 || maxPayload > ABSOLUTE_MAX_PAYLOAD) {
            throw new IllegalArgumentException("max payload out of range: " + maxPayload);
        }
        this.maxPayload = maxPayload;
    }

    /** Whether a malformed frame was seen; the decoder then drops everything. */
    public boolean failed() {
        return failed;
    }

    @Override
    protected final void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= Wire.LENGTH_BYTES) {
            int start = in.readerIndex();
            long length = in.getUnsignedInt(start);
            if (length == 0) {
                fail(in, Reason.SHORT_LENGTH, "bad packet length: 0");
            }
            if (length - 1 > maxPayload) {
                fail(in, Reason.LONG_LENGTH, "packet length " + length + " exceeds the limit of "
                        + (maxPayload + 1));
            }
            if (in.readableBytes() < Wire.LENGTH_BYTES + length) {
                return;
            }
            int code = in.getUnsignedByte(start + Wire.LENGTH_BYTES);
            ByteBuf payload = in.slice(start + Wire.LENGTH_BYTES + 1, (int) length - 1);
            in.readerIndex(start + Wire.LENGTH_BYTES + (int) length);
            Object message;
            try {
                message = decodePayload(code, payload);
            } catch (MilterDecoderException e) {
                failed = true;
                in.skipBytes(in.readableBytes());
                throw e;
            } catch (RuntimeException e) {
                // A safety net: every malformed payload should be refused with its own reason above. Keeping
                // the cause makes such a gap visible instead of letting a raw exception escape the pipeline.
                failed = true;
                in.skipBytes(in.readableBytes());
                throw new MilterDecoderException(Reason.UNEXPECTED_COMMAND, "failed to decode " + side() + " "
                        + CommandDecoder.describe(code) + ": " + e, e);
            }
            out.add(message);
        }
    }

    @Override
    protected final void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        decode(ctx, in, out);
        if (!failed && in.isReadable()) {
            int readable = in.readableBytes();
            String need = readable < Wire.LENGTH_BYTES
                    ? "need more " + (Wire.LENGTH_BYTES - readable) + " bytes for decoding " + side() + " length"
                    : "need more " + (Wire.LENGTH_BYTES + in.getUnsignedInt(in.readerIndex()) - readable)
                            + " bytes for decoding " + side() + " content";
            fail(in, Reason.UNEXPECTED_END, "stream is ended unexpectedly: " + need);
        }
    }

    /** "command" or "reply", for error messages. */
    protected abstract String side();

    /**
     * Decodes one payload (a slice of the input, valid only during this call: retain what you keep).
     *
     * @throws MilterDecoderException when the payload is malformed
     */
    protected abstract Object decodePayload(int code, ByteBuf payload);

    private void fail(ByteBuf in, Reason reason, String message) {
        failed = true;
        in.skipBytes(in.readableBytes());
        throw new MilterDecoderException(reason, message);
    }
}
