package milter.core.codec;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyCodes;
import milter.core.protocol.ReplyType;

/** Decodes milter-to-MTA packets into {@link Reply}s (MTA side). */
public class ReplyDecoder extends MilterFrameDecoder {

    public ReplyDecoder() {
        this(DEFAULT_MAX_PAYLOAD);
    }

    public ReplyDecoder(int maxPayload) {
        super(maxPayload);
    }

    @Override
    protected String side() {
        return "reply";
    }

    @Override
    protected Reply decodePayload(int code, ByteBuf payload) {
        ReplyType type = ReplyType.fromCode(code);
        if (type == null) {
            throw new MilterDecoderException(Reason.UNEXPECTED_COMMAND,
                    "unexpected reply was received: " + CommandDecoder.describe(code));
        }
        String what = type.nick() + " reply";
        switch (type) {
            case NEGOTIATE:
                return decodeNegotiate(payload, what);
            case CONTINUE:
                return empty(payload, what, Reply.Continue.INSTANCE);
            case ACCEPT:
                return empty(payload, what, Reply.Accept.INSTANCE);
            case REJECT:
                return empty(payload, what, Reply.Reject.INSTANCE);
            case TEMPORARY_FAILURE:
                return empty(payload, what, Reply.TemporaryFailure.INSTANCE);
            case DISCARD:
                return empty(payload, what, Reply.Discard.INSTANCE);
            case SKIP:
                return empty(payload, what, Reply.Skip.INSTANCE);
            case PROGRESS:
                return empty(payload, what, Reply.Progress.INSTANCE);
            case CONNECTION_FAILURE:
                return empty(payload, what, Reply.ConnectionFailure.INSTANCE);
            case SHUTDOWN:
                return empty(payload, what, Reply.Shutdown.INSTANCE);
            case REPLY_CODE: {
                String reply = Wire.strings(payload, 1, 1, what).get(0);
                if (!ReplyCodes.looksValid(reply)) {
                    throw new MilterDecoderException(Reason.INVALID_REPLY_CODE,
                            "reply code should start with 4xx or 5xx: <" + reply + ">");
                }
                return new Reply.ReplyCode(reply);
            }
            case ADD_HEADER: {
                List<String> args = Wire.strings(payload, 2, 2, what);
                return new Reply.AddHeader(args.get(0), args.get(1));
            }
            case INSERT_HEADER: {
                long index = Wire.readUnsignedInt(payload, what + " index");
                List<String> args = Wire.strings(payload, 2, 2, what);
                return new Reply.InsertHeader(clampIndex(index), args.get(0), args.get(1));
            }
            case CHANGE_HEADER: {
                long index = Wire.readUnsignedInt(payload, what + " index");
                List<String> args = Wire.strings(payload, 2, 2, what);
                return new Reply.ChangeHeader(clampIndex(index), args.get(0), args.get(1));
            }
            case ADD_RECIPIENT:
                return new Reply.AddRecipient(Wire.strings(payload, 1, 1, what).get(0));
            case ADD_RECIPIENT_WITH_PARAMETERS: {
                List<String> args = Wire.strings(payload, 1, 2, what);
                return new Reply.AddRecipientWithParameters(args.get(0), args.size() > 1 ? args.get(1) : "");
            }
            case DELETE_RECIPIENT:
                return new Reply.DeleteRecipient(Wire.strings(payload, 1, 1, what).get(0));
            case CHANGE_FROM: {
                List<String> args = Wire.strings(payload, 1, 2, what);
                return new Reply.ChangeFrom(args.get(0), args.size() > 1 ? args.get(1) : null);
            }
            case REPLACE_BODY:
                return new Reply.ReplaceBody(payload.retain());
            case QUARANTINE:
                return new Reply.Quarantine(Wire.strings(payload, 1, 1, what).get(0));
            case SET_SYMBOL_LIST: {
                long stageValue = Wire.readUnsignedInt(payload, what + " stage");
                MacroStage stage = stage(stageValue);
                String names = Wire.strings(payload, 1, 1, what).get(0);
                return new Reply.SetSymbolList(stage, splitNames(names));
            }
            default:
                throw new MilterDecoderException(Reason.UNEXPECTED_COMMAND,
                        "unexpected reply was received: " + CommandDecoder.describe(code));
        }
    }

    private static Reply empty(ByteBuf payload, String what, Reply reply) {
        Wire.noTrailing(payload, what);
        return reply;
    }

    private static Reply decodeNegotiate(ByteBuf payload, String what) {
        Wire.need(payload, 12, what);
        int version = payload.readInt();
        int actions = payload.readInt();
        int protocol = payload.readInt();
        Map<MacroStage, List<String>> requests = new EnumMap<>(MacroStage.class);
        while (payload.isReadable()) {
            MacroStage stage = stage(Wire.readUnsignedInt(payload, what + " macro stage"));
            requests.put(stage, splitNames(Wire.readString(payload, what)));
        }
        return new Reply.Negotiate(new Option(version, actions, protocol, requests));
    }

    private static MacroStage stage(long value) {
        MacroStage stage = value > 6 ? null : MacroStage.fromValue((int) value);
        if (stage == null) {
            throw new MilterDecoderException(Reason.UNKNOWN_MACRO_STAGE,
                    "unexpected macro stage was received: " + value);
        }
        return stage;
    }

    /** Macro lists are separated by spaces (Sendmail and Postfix also accept commas). */
    static List<String> splitNames(String names) {
        List<String> out = new ArrayList<>();
        Arrays.stream(names.split("[ ,]+")).filter(s -> !s.isEmpty()).forEach(out::add);
        return out;
    }

    /** Header indexes beyond int range mean "past the end" in every MTA; keep them non-negative. */
    private static int clampIndex(long index) {
        return index > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) index;
    }
}
