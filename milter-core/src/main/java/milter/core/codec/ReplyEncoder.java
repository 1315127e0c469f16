package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import java.util.Map;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyCodes;

/**
 * Encodes {@link Reply}s (milter side). Reply codes are validated here, so a bad code is a clear error and never
 * a malformed packet on the wire. Replaced body data is sliced, not copied, and split at 65535 bytes.
 */
@ChannelHandler.Sharable
public class ReplyEncoder extends MessageToMessageEncoder<Reply> {
    /** Largest replacement-body chunk in one {@code b} packet. */
    public static final int MAX_BODY_CHUNK = 65535;

    public static final ReplyEncoder INSTANCE = new ReplyEncoder();

    public ReplyEncoder() {
        super(Reply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Reply reply, List<Object> out) {
        encode(ctx.alloc(), reply, out);
    }

    /** Encodes one reply into one or more buffers appended to {@code out}. */
    public static void encode(ByteBufAllocator alloc, Reply reply, List<Object> out) {
        try {
            if (reply instanceof Reply.ReplaceBody body) {
                Frames.chunked(alloc, 'b', body.content(), MAX_BODY_CHUNK, out);
            } else {
                out.add(encodeSimple(alloc, reply));
            }
        } catch (IllegalArgumentException e) {
            throw new EncoderException("cannot encode " + reply.type().nick() + " reply: " + e.getMessage(), e);
        }
    }

    private static ByteBuf encodeSimple(ByteBufAllocator alloc, Reply reply) {
        char code = reply.type().code();
        switch (reply.type()) {
            case NEGOTIATE:
                return encodeNegotiate(alloc, ((Reply.Negotiate) reply).option());
            case CONTINUE:
            case ACCEPT:
            case REJECT:
            case TEMPORARY_FAILURE:
            case DISCARD:
            case SKIP:
            case PROGRESS:
            case CONNECTION_FAILURE:
            case SHUTDOWN:
                return Frames.start(alloc, code, 0);
            case REPLY_CODE: {
                String text = ((Reply.ReplyCode) reply).reply();
                ReplyCodes.validate(text);
                return Frames.strings(alloc, code, List.of(text));
            }
            case ADD_HEADER: {
                Reply.AddHeader add = (Reply.AddHeader) reply;
                requireName(add.name());
                return Frames.strings(alloc, code, List.of(add.name(), add.value()));
            }
            case INSERT_HEADER: {
                Reply.InsertHeader insert = (Reply.InsertHeader) reply;
                requireName(insert.name());
                return indexed(alloc, code, insert.index(), insert.name(), insert.value());
            }
            case CHANGE_HEADER: {
                Reply.ChangeHeader change = (Reply.ChangeHeader) reply;
                requireName(change.name());
                return indexed(alloc, code, change.index(), change.name(), change.value());
            }
            case ADD_RECIPIENT:
                return Frames.strings(alloc, code, List.of(((Reply.AddRecipient) reply).address()));
            case ADD_RECIPIENT_WITH_PARAMETERS: {
                Reply.AddRecipientWithParameters add = (Reply.AddRecipientWithParameters) reply;
                return Frames.strings(alloc, code, List.of(add.address(), add.parameters()));
            }
            case DELETE_RECIPIENT:
                return Frames.strings(alloc, code, List.of(((Reply.DeleteRecipient) reply).address()));
            case CHANGE_FROM: {
                Reply.ChangeFrom from = (Reply.ChangeFrom) reply;
                return Frames.strings(alloc, code, from.parameters() == null
                        ? List.of(from.address()) : List.of(from.address(), from.parameters()));
            }
            case QUARANTINE:
                return Frames.strings(alloc, code, List.of(((Reply.Quarantine) reply).reason()));
            case SET_SYMBOL_LIST: {
                Reply.SetSymbolList list = (Reply.SetSymbolList) reply;
                String names = macroList(list.names());
                ByteBuf buf = Frames.start(alloc, code, 4 + Wire.sizeOf(names));
                buf.writeInt(list.stage().value());
                Wire.writeString(buf, names, "macro list");
                return buf;
            }
            default:
                throw new IllegalStateException("unhandled reply " + reply.type());
        }
    }

    private static ByteBuf encodeNegotiate(ByteBufAllocator alloc, Option option) {
        Map<MacroStage, List<String>> requests = option.macroRequests();
        String[] lists = new String[requests.size()];
        int size = 12;
        int i = 0;
        for (List<String> names : requests.values()) {
            lists[i] = macroList(names);
            size += 4 + Wire.sizeOf(lists[i]);
            i++;
        }
        ByteBuf buf = Frames.start(alloc, 'O', size);
        buf.writeInt(option.version()).writeInt(option.actions()).writeInt(option.protocol());
        i = 0;
        for (MacroStage stage : requests.keySet()) {
            buf.writeInt(stage.value());
            Wire.writeString(buf, lists[i++], "macro list");
        }
        return buf;
    }

    /**
     * The wire form of a macro list: names separated by one space. A name that is empty or holds a separator
     * (space or comma) or a NUL would come out as different names on the other side, so it is refused.
     */
    private static String macroList(List<String> names) {
        for (String name : names) {
            if (name.isEmpty() || name.indexOf(' ') >= 0 || name.indexOf(',') >= 0 || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("invalid macro name in list: <" + name + ">");
            }
        }
        return String.join(" ", names);
    }

    private static ByteBuf indexed(ByteBufAllocator alloc, char code, int index, String name, String value) {
        if (index < 0) {
            throw new IllegalArgumentException("header index is negative: " + index);
        }
        ByteBuf buf = Frames.start(alloc, code, 4 + Wire.sizeOf(name) + Wire.sizeOf(value));
        try {
            buf.writeInt(index);
            Wire.writeString(buf, name, "header name");
            Wire.writeString(buf, value, "header value");
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return buf;
    }

    private static void requireName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("header name is empty");
        }
    }
}
