package milter.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;

/**
 * A packet that carries raw bytes (body chunks, replaced body, end-of-message data). The packet owns one
 * reference to {@link #content()}: whoever receives it from a decoder releases it (Netty's pipeline does so for
 * handlers that pass it on or extend {@code SimpleChannelInboundHandler}); whoever writes it to an encoder hands
 * that reference over.
 */
public interface ByteBufMessage extends ByteBufHolder {

    @Override
    ByteBufMessage replace(ByteBuf content);

    @Override
    default ByteBufMessage copy() {
        return replace(content().copy());
    }

    @Override
    default ByteBufMessage duplicate() {
        return replace(content().duplicate());
    }

    @Override
    default ByteBufMessage retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    default int refCnt() {
        return content().refCnt();
    }

    @Override
    default ByteBufMessage retain() {
        content().retain();
        return this;
    }

    @Override
    default ByteBufMessage retain(int increment) {
        content().retain(increment);
        return this;
    }

    @Override
    default ByteBufMessage touch() {
        content().touch();
        return this;
    }

    @Override
    default ByteBufMessage touch(Object hint) {
        content().touch(hint);
        return this;
    }

    @Override
    default boolean release() {
        return content().release();
    }

    @Override
    default boolean release(int decrement) {
        return content().release(decrement);
    }
}
