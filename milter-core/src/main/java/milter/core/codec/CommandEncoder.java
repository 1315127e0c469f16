package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.util.List;
import java.util.Map;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.SocketFamily;

/**
 * Encodes {@link Command}s (MTA side). Body data is not copied: each {@code B} packet is a small header buffer
 * followed by a retained slice of the chunk, split at {@value #MAX_BODY_CHUNK} bytes. End-of-message data longer
 * than that is sent as {@code B} packets followed by an {@code E} with the rest.
 */
@ChannelHandler.Sharable
public class CommandEncoder extends MessageToMessageEncoder<Command> {
    /** Largest body chunk in one {@code B} packet. */
    public static final int MAX_BODY_CHUNK = 65535;

    public static final CommandEncoder INSTANCE = new CommandEncoder();

    public CommandEncoder() {
        super(Command.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Command command, List<Object> out) {
        encode(ctx.alloc(), command, out);
    }

    /**
     * Encodes one command into one or more buffers appended to {@code out}. Body data is sliced, not copied; the
     * caller keeps its own reference to the command's content.
     */
    public static void encode(ByteBufAllocator alloc, Command command, List<Object> out) {
        try {
            switch (command.type()) {
                case BODY:
                    Frames.chunked(alloc, 'B', ((Command.Body) command).content(), MAX_BODY_CHUNK, out);
                    break;
                case END_OF_MESSAGE:
                    // Data on E is a last body chunk to the milter; more than one chunk's worth goes ahead as
                    // B packets so that no packet exceeds what a default peer accepts.
                    Frames.lastChunk(alloc, 'B', 'E', ((Command.EndOfMessage) command).content(), MAX_BODY_CHUNK,
                            out);
                    break;
                default:
                    out.add(encodeSimple(alloc, command));
            }
        } catch (IllegalArgumentException e) {
            throw new EncoderException("cannot encode " + command.type().nick() + " command: " + e.getMessage(), e);
        }
    }

    private static ByteBuf encodeSimple(ByteBufAllocator alloc, Command command) {
        char code = command.type().code();
        switch (command.type()) {
            case NEGOTIATE: {
                Option option = ((Command.Negotiate) command).option();
                ByteBuf buf = Frames.start(alloc, code, 12);
                buf.writeInt(option.version()).writeInt(option.actions()).writeInt(option.protocol());
                return buf;
            }
            case DEFINE_MACRO: {
                Command.DefineMacro define = (Command.DefineMacro) command;
                int size = 1;
                for (Map.Entry<String, String> e : define.macros().entrySet()) {
                    size += Wire.sizeOf(e.getKey()) + Wire.sizeOf(e.getValue());
                }
                ByteBuf buf = Frames.start(alloc, code, size);
                try {
                    buf.writeByte(define.stage().code());
                    for (Map.Entry<String, String> e : define.macros().entrySet()) {
                        Wire.writeString(buf, e.getKey(), "macro name");
                        Wire.writeString(buf, e.getValue(), "macro value");
                    }
                } catch (RuntimeException e) {
                    buf.release();
                    throw e;
                }
                return buf;
            }
            case CONNECT: {
                Command.Connect connect = (Command.Connect) command;
                boolean known = connect.family() != SocketFamily.UNKNOWN;
                int size = Wire.sizeOf(connect.host()) + 1 + (known ? 2 + Wire.sizeOf(connect.address()) : 0);
                ByteBuf buf = Frames.start(alloc, code, size);
                try {
                    Wire.writeString(buf, connect.host(), "host");
                    buf.writeByte(connect.family().code());
                    if (known) {
                        buf.writeShort(connect.port());
                        Wire.writeString(buf, connect.address(), "address");
                    }
                } catch (RuntimeException e) {
                    buf.release();
                    throw e;
                }
                return buf;
            }
            case HELO:
                return Frames.strings(alloc, code, List.of(((Command.Helo) command).fqdn()));
            case ENVELOPE_FROM: {
                Command.EnvelopeFrom from = (Command.EnvelopeFrom) command;
                return Frames.strings(alloc, code, Frames.concat(from.address(), from.parameters()));
            }
            case ENVELOPE_RECIPIENT: {
                Command.EnvelopeRecipient rcpt = (Command.EnvelopeRecipient) command;
                return Frames.strings(alloc, code, Frames.concat(rcpt.address(), rcpt.parameters()));
            }
            case HEADER: {
                Command.Header header = (Command.Header) command;
                return Frames.strings(alloc, code, List.of(header.name(), header.value()));
            }
            case UNKNOWN:
                return Frames.strings(alloc, code, List.of(((Command.Unknown) command).command()));
            case DATA:
            case END_OF_HEADER:
            case ABORT:
            case QUIT:
            case QUIT_NEW_CONNECTION:
                return Frames.start(alloc, code, 0);
            default:
                throw new IllegalStateException("unhandled command " + command.type());
        }
    }
}
