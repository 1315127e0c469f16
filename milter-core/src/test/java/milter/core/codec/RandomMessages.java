package milter.core.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyCodes;
import milter.core.protocol.SocketFamily;

/**
 * Random valid commands and replies of every kind. Strings hold bytes 0x01-0xFF one char per byte (as the
 * decoders produce them), so every message encodes and decodes back to itself.
 */
final class RandomMessages {
    private static final CommandType[] MACRO_STAGES = {
        CommandType.CONNECT, CommandType.HELO, CommandType.ENVELOPE_FROM, CommandType.ENVELOPE_RECIPIENT,
        CommandType.DATA, CommandType.HEADER, CommandType.END_OF_HEADER, CommandType.BODY,
        CommandType.END_OF_MESSAGE, CommandType.UNKNOWN,
    };

    private final Random random;
    private final ByteBufAllocator alloc;
    private final int maxBody;

    /**
     * @param maxBody largest body-like payload (body chunks, end-of-message data, replaced body) to generate
     */
    RandomMessages(Random random, ByteBufAllocator alloc, int maxBody) {
        this.random = random;
        this.alloc = alloc;
        this.maxBody = maxBody;
    }

    /** One random command; the caller owns (and releases) its body buffer if it has one. */
    Command command() {
        CommandType type = CommandType.values()[random.nextInt(CommandType.values().length)];
        switch (type) {
            case NEGOTIATE:
                return new Command.Negotiate(new Option(random.nextInt(), random.nextInt(), random.nextInt()));
            case DEFINE_MACRO:
                return new Command.DefineMacro(MACRO_STAGES[random.nextInt(MACRO_STAGES.length)], macros());
            case CONNECT: {
                SocketFamily family = SocketFamily.values()[random.nextInt(SocketFamily.values().length)];
                return new Command.Connect(text(), family, random.nextInt(0x10000), text());
            }
            case HELO:
                return new Command.Helo(text());
            case ENVELOPE_FROM:
                return new Command.EnvelopeFrom(text(), esmtpArgs());
            case ENVELOPE_RECIPIENT:
                return new Command.EnvelopeRecipient(text(), esmtpArgs());
            case DATA:
                return Command.Data.INSTANCE;
            case HEADER:
                return new Command.Header(text(), text());
            case END_OF_HEADER:
                return Command.EndOfHeader.INSTANCE;
            case BODY:
                return new Command.Body(data(bodySize()));
            case END_OF_MESSAGE:
                return new Command.EndOfMessage(data(random.nextInt(4) == 0 ? bodySize() : 0));
            case ABORT:
                return Command.Abort.INSTANCE;
            case QUIT:
                return Command.Quit.INSTANCE;
            case QUIT_NEW_CONNECTION:
                return Command.QuitNewConnection.INSTANCE;
            case UNKNOWN:
                return new Command.Unknown(text());
            default:
                throw new IllegalStateException(type.toString());
        }
    }

    /** One random reply; the caller owns (and releases) its body buffer if it has one. */
    Reply reply() {
        switch (random.nextInt(21)) {
            case 0:
                return new Reply.Negotiate(new Option(random.nextInt(), random.nextInt(), random.nextInt(),
                        macroRequests()));
            case 1:
                return Reply.Continue.INSTANCE;
            case 2:
                return Reply.Accept.INSTANCE;
            case 3:
                return Reply.Reject.INSTANCE;
            case 4:
                return Reply.TemporaryFailure.INSTANCE;
            case 5:
                return Reply.Discard.INSTANCE;
            case 6:
                return new Reply.ReplyCode(replyCode());
            case 7:
                return Reply.Skip.INSTANCE;
            case 8:
                return Reply.Progress.INSTANCE;
            case 9:
                return new Reply.AddHeader(nonEmptyText(), text());
            case 10:
                return new Reply.InsertHeader(index(), nonEmptyText(), text());
            case 11:
                return new Reply.ChangeHeader(index(), nonEmptyText(), text());
            case 12:
                return new Reply.AddRecipient(text());
            case 13:
                return new Reply.AddRecipientWithParameters(text(), text());
            case 14:
                return new Reply.DeleteRecipient(text());
            case 15:
                return new Reply.ChangeFrom(text(), random.nextBoolean() ? null : text());
            case 16:
                return new Reply.ReplaceBody(data(bodySize()));
            case 17:
                return new Reply.Quarantine(text());
            case 18:
                return Reply.ConnectionFailure.INSTANCE;
            case 19:
                return Reply.Shutdown.INSTANCE;
            default:
                MacroStage stage = MacroStage.values()[random.nextInt(MacroStage.values().length)];
                return new Reply.SetSymbolList(stage, macroNames());
        }
    }

    /** Mostly short, sometimes a few hundred bytes, rarely several thousand. */
    String text() {
        int roll = random.nextInt(100);
        int length = roll < 70 ? random.nextInt(24) : roll < 97 ? random.nextInt(400) : random.nextInt(8000);
        return text(length, 1);
    }

    private String nonEmptyText() {
        return text(1 + random.nextInt(30), 1);
    }

    /** Chars from {@code lowest} to 0xFF, with high bytes and spaces well represented. */
    private String text(int length, int lowest) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            int roll = random.nextInt(10);
            if (roll < 5) {
                chars[i] = (char) ('a' + random.nextInt(26));
            } else if (roll < 7) {
                chars[i] = (char) (0x80 + random.nextInt(0x80));
            } else {
                chars[i] = (char) (lowest + random.nextInt(0x100 - lowest));
            }
        }
        return new String(chars);
    }

    private List<String> esmtpArgs() {
        int n = random.nextInt(5);
        List<String> args = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(4)) {
                case 0:
                    args.add("SIZE=" + random.nextInt(Integer.MAX_VALUE));
                    break;
                case 1:
                    args.add(random.nextBoolean() ? "BODY=8BITMIME" : "BODY=7BIT");
                    break;
                case 2:
                    args.add("NOTIFY=" + (random.nextBoolean() ? "NEVER" : "SUCCESS,FAILURE"));
                    break;
                default:
                    args.add(text());
            }
        }
        return args;
    }

    private Map<String, String> macros() {
        int n = random.nextInt(8);
        Map<String, String> macros = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = random.nextBoolean() ? String.valueOf((char) ('a' + random.nextInt(26)))
                    : "{" + text(1 + random.nextInt(20), 1) + "}";
            macros.put(name, text());
        }
        return macros;
    }

    private Map<MacroStage, List<String>> macroRequests() {
        Map<MacroStage, List<String>> requests = new EnumMap<>(MacroStage.class);
        for (MacroStage stage : MacroStage.values()) {
            if (random.nextInt(3) == 0) {
                requests.put(stage, macroNames());
            }
        }
        return requests;
    }

    /** Names without the list separators (space, comma). */
    private List<String> macroNames() {
        int n = random.nextInt(6);
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String name = text(1 + random.nextInt(16), 0x21).replace(',', '_');
            names.add(random.nextBoolean() ? name : "{" + name + "}");
        }
        return names;
    }

    /** A reply the encoder's validation accepts: built by the formatter from random text. */
    private String replyCode() {
        while (true) {
            String reply = candidateReplyCode();
            try {
                ReplyCodes.validate(reply);
                return reply;
            } catch (IllegalArgumentException e) {
                // Random text that starts like an enhanced code of another class; draw again.
            }
        }
    }

    private String candidateReplyCode() {
        int code = (random.nextBoolean() ? 400 : 500) + random.nextInt(100);
        String extended = random.nextInt(3) == 0 ? null
                : (code / 100) + "." + random.nextInt(1000) + "." + random.nextInt(1000);
        int lines = 1 + random.nextInt(random.nextInt(8) == 0 ? 32 : 2);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            if (i > 0) {
                text.append('\n');
            }
            // Neither CR nor LF inside a line; % is doubled by the formatter.
            text.append(text(random.nextInt(60), 1).replace('\r', ' ').replace('\n', ' '));
        }
        return ReplyCodes.format(code, extended, text.toString());
    }

    private int index() {
        return random.nextInt(4) == 0 ? random.nextInt(Integer.MAX_VALUE) : random.nextInt(20);
    }

    /** 0 to maxBody; the sizes around the chunk limit and small ones are favoured. */
    int bodySize() {
        int roll = random.nextInt(10);
        int size;
        if (roll < 5) {
            size = random.nextInt(200);
        } else if (roll < 7) {
            size = 65535 + random.nextInt(5) - 2;
        } else {
            size = random.nextInt(maxBody + 1);
        }
        return Math.max(0, Math.min(size, maxBody));
    }

    ByteBuf data(int size) {
        ByteBuf buf = alloc.buffer(size);
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return buf.writeBytes(bytes);
    }
}
