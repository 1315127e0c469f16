package milter.core.codec;

import io.netty.buffer.ByteBuf;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.SocketFamily;

/** Decodes MTA-to-milter packets into {@link Command}s (milter side). */
public class CommandDecoder extends MilterFrameDecoder {

    public CommandDecoder() {
        this(DEFAULT_MAX_PAYLOAD);
    }

    public CommandDecoder(int maxPayload) {
        super(maxPayload);
    }

    @Override
    protected String side() {
        return "command";
    }

    @Override
    protected Command decodePayload(int code, ByteBuf payload) {
        CommandType type = CommandType.fromCode(code);
        if (type == null) {
            throw new MilterDecoderException(Reason.UNEXPECTED_COMMAND,
                    "unexpected command was received: " + describe(code));
        }
        String what = type.nick() + " command";
        switch (type) {
            case NEGOTIATE: {
                Wire.need(payload, 12, what);
                // Extra bytes after the three words are ignored, as libmilter does.
                return new Command.Negotiate(new Option(payload.readInt(), payload.readInt(), payload.readInt()));
            }
            case DEFINE_MACRO:
                return decodeDefineMacro(payload, what);
            case CONNECT:
                return decodeConnect(payload, what);
            case HELO:
                return new Command.Helo(Wire.strings(payload, 1, 1, what).get(0));
            case ENVELOPE_FROM: {
                List<String> args = Wire.strings(payload, 1, Integer.MAX_VALUE, what);
                return new Command.EnvelopeFrom(args.get(0), args.subList(1, args.size()));
            }
            case ENVELOPE_RECIPIENT: {
                List<String> args = Wire.strings(payload, 1, Integer.MAX_VALUE, what);
                return new Command.EnvelopeRecipient(args.get(0), args.subList(1, args.size()));
            }
            case HEADER: {
                List<String> args = Wire.strings(payload, 2, 2, what);
                return new Command.Header(args.get(0), args.get(1));
            }
            case BODY:
                return new Command.Body(payload.retain());
            case END_OF_MESSAGE:
                return new Command.EndOfMessage(payload.retain());
            case UNKNOWN:
                return new Command.Unknown(Wire.strings(payload, 1, 1, what).get(0));
            case DATA:
                Wire.noTrailing(payload, what);
                return Command.Data.INSTANCE;
            case END_OF_HEADER:
                Wire.noTrailing(payload, what);
                return Command.EndOfHeader.INSTANCE;
            case ABORT:
                Wire.noTrailing(payload, what);
                return Command.Abort.INSTANCE;
            case QUIT:
                Wire.noTrailing(payload, what);
                return Command.Quit.INSTANCE;
            case QUIT_NEW_CONNECTION:
                Wire.noTrailing(payload, what);
                return Command.QuitNewConnection.INSTANCE;
            default:
                throw new MilterDecoderException(Reason.UNEXPECTED_COMMAND,
                        "unexpected command was received: " + describe(code));
        }
    }

    private static Command decodeDefineMacro(ByteBuf payload, String what) {
        Wire.need(payload, 1, what);
        int stageCode = payload.readUnsignedByte();
        CommandType stage = CommandType.fromCode(stageCode);
        if (stage == null || !stage.carriesMacros()) {
            throw new MilterDecoderException(Reason.UNKNOWN_MACRO_STAGE,
                    "unknown macro context: " + describe(stageCode));
        }
        List<String> strings = Wire.readStrings(payload, what);
        if (strings.size() % 2 != 0) {
            throw new MilterDecoderException(Reason.WRONG_ARGUMENT_COUNT,
                    "macro without value on " + what + ": <" + strings.get(strings.size() - 1) + ">");
        }
        Map<String, String> macros = new LinkedHashMap<>();
        for (int i = 0; i < strings.size(); i += 2) {
            macros.put(strings.get(i), strings.get(i + 1));
        }
        return new Command.DefineMacro(stage, macros);
    }

    private static Command decodeConnect(ByteBuf payload, String what) {
        String host = Wire.readString(payload, what);
        Wire.need(payload, 1, what + " family");
        int familyCode = payload.readUnsignedByte();
        SocketFamily family = SocketFamily.fromCode(familyCode);
        if (family == null) {
            throw new MilterDecoderException(Reason.UNKNOWN_FAMILY,
                    "unexpected family on connect command: <" + host + ">: <" + describe(familyCode) + ">");
        }
        if (family == SocketFamily.UNKNOWN) {
            // Some MTAs send a port and address even for an unknown family; they carry nothing useful.
            return new Command.Connect(host, family, 0, null);
        }
        Wire.need(payload, 2, what + " port");
        int port = payload.readUnsignedShort();
        String address = Wire.readString(payload, what);
        Wire.noTrailing(payload, what);
        return new Command.Connect(host, family, port, address);
    }

    static String describe(int code) {
        return code >= 0x20 && code < 0x7F ? "'" + (char) code + "'" : String.format("0x%02X", code);
    }
}
