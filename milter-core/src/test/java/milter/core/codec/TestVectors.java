package milter.core.codec;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import milter.core.codec.MilterDecoderException.Reason;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;

/** The test vectors of the protocol specification, section 9, with the typed messages they stand for. */
final class TestVectors {
    private TestVectors() {
    }

    /** A valid packet (or packet stream) and what it decodes to; messages are made fresh for every use. */
    record Valid(int number, String meaning, byte[] bytes, Supplier<List<Object>> messages) {
        @Override
        public String toString() {
            return "#" + number + " " + meaning;
        }
    }

    /** A packet a decoder must refuse, and for which side(s). */
    record Invalid(int number, String meaning, byte[] bytes, Reason reason, boolean commandSide,
            boolean replySide) {
        @Override
        public String toString() {
            return "#" + number + " " + meaning;
        }
    }

    static final String V1 = "00 00 00 0D 4F 00 00 00 06 00 00 01 FF 00 1F FF FF";
    static final String V2 = "00 00 00 0D 4F 00 00 00 02 00 00 01 FF 00 00 00 7F";
    static final String V3 = "00 00 00 27 44 43 6A 00 6D 78 2E 65 78 61 6D 70 6C 65 2E 63 6F 6D 00 7B 64 61 65 6D 6F 6E 5F 6E 61 6D 65 7D 00 73 6D 74 70 64 00";
    static final String V4 = "00 00 00 02 44 54";
    static final String V5 = "00 00 00 20 43 6D 61 69 6C 2E 65 78 61 6D 70 6C 65 2E 6F 72 67 00 34 C5 0B 31 39 32 2E 30 2E 32 2E 31 30 00";
    static final String V6 = "00 00 00 28 43 5B 49 50 76 36 3A 32 30 30 31 3A 64 62 38 3A 3A 31 5D 00 36 00 19 49 50 76 36 3A 32 30 30 31 3A 64 62 38 3A 3A 31 00";
    static final String V7 = "00 00 00 1E 43 5B 32 30 30 31 3A 64 62 38 3A 3A 31 5D 00 36 00 19 32 30 30 31 3A 64 62 38 3A 3A 31 00";
    static final String V8 = "00 00 00 1E 43 6C 6F 63 61 6C 68 6F 73 74 00 4C 00 00 2F 76 61 72 2F 72 75 6E 2F 73 2E 73 6F 63 6B 00";
    static final String V9 = "00 00 00 0C 43 6C 6F 63 61 6C 68 6F 73 74 00 55";
    static final String V10 = "00 00 00 14 48 63 6C 69 65 6E 74 2E 65 78 61 6D 70 6C 65 2E 6E 65 74 00";
    static final String V11 = "00 00 00 16 4D 3C 73 65 6E 64 65 72 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00";
    static final String V12 = "00 00 00 2E 4D 3C 73 65 6E 64 65 72 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00 53 49 5A 45 3D 31 30 32 34 00 42 4F 44 59 3D 38 42 49 54 4D 49 4D 45 00";
    static final String V13 = "00 00 00 04 4D 3C 3E 00";
    static final String V14 = "00 00 00 14 52 3C 72 63 70 74 40 65 78 61 6D 70 6C 65 2E 6F 72 67 3E 00";
    static final String V15 = "00 00 00 21 52 3C 72 63 70 74 40 65 78 61 6D 70 6C 65 2E 6F 72 67 3E 00 4E 4F 54 49 46 59 3D 4E 45 56 45 52 00";
    static final String V16 = "00 00 00 01 54";
    static final String V17 = "00 00 00 0F 4C 53 75 62 6A 65 63 74 00 48 65 6C 6C 6F 00";
    static final String V18 = "00 00 00 0D 4C 58 2D 4C 6F 6E 67 00 61 0A 09 62 00";
    static final String V19 = "00 00 00 0A 4C 58 2D 45 6D 70 74 79 00 00";
    static final String V20 = "00 00 00 01 4E";
    static final String V21 = "00 00 00 10 42 48 65 6C 6C 6F 2C 20 77 6F 72 6C 64 21 0D 0A";
    static final String V22 = "00 01 00 00 42";
    static final String V23 = "00 00 00 01 45";
    static final String V24 = "00 00 00 01 41";
    static final String V25 = "00 00 00 01 51";
    static final String V26 = "00 00 00 01 4B";
    static final String V27 = "00 00 00 06 55 48 45 4C 50 00";
    static final String V28 = "00 00 00 18 44 48 7B 74 6C 73 5F 76 65 72 73 69 6F 6E 7D 00 54 4C 53 76 31 2E 33 00 00 00 00 14 48 63 6C 69 65 6E 74 2E 65 78 61 6D 70 6C 65 2E 6E 65 74 00";
    static final String V29 = "00 00 00 0D 4F 00 00 00 06 00 00 00 01 00 00 00 00";
    static final String V30 = "00 00 00 33 4F 00 00 00 06 00 00 01 01 00 00 01 80 00 00 00 00 6A 20 7B 64 61 65 6D 6F 6E 5F 6E 61 6D 65 7D 00 00 00 00 02 7B 61 75 74 68 5F 61 75 74 68 65 6E 7D 00";
    static final String V31 = "00 00 00 0D 4F 00 00 00 02 00 00 00 0F 00 00 00 10";
    static final String V32 = "00 00 00 01 63";
    static final String V33 = "00 00 00 01 61";
    static final String V34 = "00 00 00 01 72";
    static final String V35 = "00 00 00 01 74";
    static final String V36 = "00 00 00 01 64";
    static final String V37 = "00 00 00 01 70";
    static final String V38 = "00 00 00 01 73";
    static final String V39 = "00 00 00 14 79 35 35 30 20 35 2E 37 2E 31 20 52 65 6A 65 63 74 65 64 00";
    static final String V40 = "00 00 00 15 79 34 35 31 20 34 2E 37 2E 31 20 54 72 79 20 6C 61 74 65 72 00";
    static final String V41 = "00 00 00 28 79 35 35 30 2D 35 2E 37 2E 31 20 6C 69 6E 65 20 6F 6E 65 0D 0A 35 35 30 20 35 2E 37 2E 31 20 6C 69 6E 65 20 74 77 6F 00";
    static final String V42 = "00 00 00 0C 68 58 2D 53 70 61 6D 00 79 65 73 00";
    static final String V43 = "00 00 00 0F 69 00 00 00 00 58 2D 46 69 72 73 74 00 31 00";
    static final String V44 = "00 00 00 1A 6D 00 00 00 01 53 75 62 6A 65 63 74 00 5B 53 50 41 4D 5D 20 48 65 6C 6C 6F 00";
    static final String V45 = "00 00 00 0D 6D 00 00 00 01 58 2D 53 70 61 6D 00 00";
    static final String V46 = "00 00 00 13 2B 3C 6E 65 77 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00";
    static final String V47 = "00 00 00 20 32 3C 6E 65 77 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00 4E 4F 54 49 46 59 3D 4E 45 56 45 52 00";
    static final String V48 = "00 00 00 13 2D 3C 6F 6C 64 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00";
    static final String V49 = "00 00 00 16 65 3C 62 6F 75 6E 63 65 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00";
    static final String V50 = "00 00 00 1F 65 3C 62 6F 75 6E 63 65 40 65 78 61 6D 70 6C 65 2E 63 6F 6D 3E 00 53 49 5A 45 3D 31 30 30 00";
    static final String V51 = "00 00 00 0B 62 4E 65 77 20 62 6F 64 79 0D 0A";
    static final String V52 = "00 00 00 0C 71 73 75 73 70 69 63 69 6F 75 73 00";
    static final String V53 = "00 00 00 01 66";
    static final String V54 = "00 00 00 01 34";
    static final String V55 = "00 00 00 00";
    static final String V56 = "7F FF FF FF 42";
    static final String V57 = "80 00 00 00 42";
    static final String V58 = "00 00 00 01 5A";
    static final String V59 = "00 00 00 04 48 61 62 63";
    static final String V60 = "00 00 00 09 4C 53 75 62 6A 65 63 74 00";
    static final String V61 = "00 00 00 0E 43 68 00 58 00 19 31 2E 32 2E 33 2E 34 00";
    static final String V62 = "00 00 00 05 4F 00 00 00 06";
    static final String V63 = "00 00 00 02 63 78";
    static final String V64 = "00 00 00 0E 79 32 35 30 20 32 2E 30 2E 30 20 4F 4B 00";
    static final String V65 = "00 00 00 03 69 00 00";
    static final String V66 = "00 00 00 0D 4C 53 75 62";

    /** Payload size of vector 22, a maximal body chunk. */
    static final int MAX_CHUNK = 65535;

    static byte[] maxChunkData() {
        byte[] data = new byte[MAX_CHUNK];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        return data;
    }

    static byte[] vector22() {
        byte[] header = Hex.bytes("00 01 00 00 42");
        byte[] data = maxChunkData();
        byte[] all = new byte[header.length + data.length];
        System.arraycopy(header, 0, all, 0, header.length);
        System.arraycopy(data, 0, all, header.length, data.length);
        return all;
    }

    static Map<String, String> macros(String... namesAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    private static Supplier<List<Object>> one(Supplier<Object> message) {
        return () -> {
            List<Object> list = new ArrayList<>(1);
            list.add(message.get());
            return list;
        };
    }

    private static Valid valid(int number, String meaning, String hex, Supplier<Object> message) {
        return new Valid(number, meaning, Hex.bytes(hex), one(message));
    }

    private static Command.Body body(String text) {
        return new Command.Body(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    /** Vectors 1-28: MTA to milter. */
    static List<Valid> commands() {
        return List.of(
            valid(1, "O v6 offer", V1, () -> new Command.Negotiate(new Option(6, 0x1FF, 0x1FFFFF))),
            valid(2, "O v2 offer", V2, () -> new Command.Negotiate(new Option(2, 0x1FF, 0x7F))),
            valid(3, "D for C", V3, () -> new Command.DefineMacro(CommandType.CONNECT,
                    macros("j", "mx.example.com", "{daemon_name}", "smtpd"))),
            valid(4, "D for T with no pairs", V4, () -> new Command.DefineMacro(CommandType.DATA, Map.of())),
            valid(5, "C IPv4", V5, () -> new Command.Connect("mail.example.org", SocketFamily.INET, 50443,
                    "192.0.2.10")),
            valid(6, "C Sendmail-style IPv6", V6, () -> new Command.Connect("[IPv6:2001:db8::1]",
                    SocketFamily.INET6, 25, "IPv6:2001:db8::1")),
            valid(7, "C Postfix-style IPv6", V7, () -> new Command.Connect("[2001:db8::1]", SocketFamily.INET6, 25,
                    "2001:db8::1")),
            valid(8, "C UNIX", V8, () -> new Command.Connect("localhost", SocketFamily.UNIX, 0,
                    "/var/run/s.sock")),
            valid(9, "C unknown family", V9, () -> new Command.Connect("localhost", SocketFamily.UNKNOWN, 0, null)),
            valid(10, "H", V10, () -> new Command.Helo("client.example.net")),
            valid(11, "M", V11, () -> new Command.EnvelopeFrom("<sender@example.com>")),
            valid(12, "M with ESMTP args", V12, () -> new Command.EnvelopeFrom("<sender@example.com>",
                    List.of("SIZE=1024", "BODY=8BITMIME"))),
            valid(13, "M null sender", V13, () -> new Command.EnvelopeFrom("<>")),
            valid(14, "R", V14, () -> new Command.EnvelopeRecipient("<rcpt@example.org>")),
            valid(15, "R with ESMTP arg", V15, () -> new Command.EnvelopeRecipient("<rcpt@example.org>",
                    List.of("NOTIFY=NEVER"))),
            valid(16, "T", V16, () -> Command.Data.INSTANCE),
            valid(17, "L", V17, () -> new Command.Header("Subject", "Hello")),
            valid(18, "L folded", V18, () -> new Command.Header("X-Long", "a\n\tb")),
            valid(19, "L empty value", V19, () -> new Command.Header("X-Empty", "")),
            valid(20, "N", V20, () -> Command.EndOfHeader.INSTANCE),
            valid(21, "B", V21, () -> body("Hello, world!\r\n")),
            new Valid(22, "B maximal chunk", vector22(),
                    one(() -> new Command.Body(Unpooled.wrappedBuffer(maxChunkData())))),
            valid(23, "E", V23, () -> new Command.EndOfMessage()),
            valid(24, "A", V24, () -> Command.Abort.INSTANCE),
            valid(25, "Q", V25, () -> Command.Quit.INSTANCE),
            valid(26, "K", V26, () -> Command.QuitNewConnection.INSTANCE),
            valid(27, "U", V27, () -> new Command.Unknown("HELP")),
            new Valid(28, "D(H) then H in one buffer", Hex.bytes(V28), () -> {
                List<Object> list = new ArrayList<>(2);
                list.add(new Command.DefineMacro(CommandType.HELO, macros("{tls_version}", "TLSv1.3")));
                list.add(new Command.Helo("client.example.net"));
                return list;
            }));
    }

    /** Vectors 29-54: milter to MTA. */
    static List<Valid> replies() {
        Map<MacroStage, List<String>> lists = new LinkedHashMap<>();
        lists.put(MacroStage.CONNECT, List.of("j", "{daemon_name}"));
        lists.put(MacroStage.ENVELOPE_FROM, List.of("{auth_authen}"));
        return List.of(
            valid(29, "O reply v6 add-headers", V29, () -> new Reply.Negotiate(new Option(6, 0x01, 0))),
            valid(30, "O reply with macro lists", V30, () -> new Reply.Negotiate(new Option(6, 0x101, 0x180, lists))),
            valid(31, "O reply v2", V31, () -> new Reply.Negotiate(new Option(2, 0x0F, 0x10))),
            valid(32, "c", V32, () -> Reply.Continue.INSTANCE),
            valid(33, "a", V33, () -> Reply.Accept.INSTANCE),
            valid(34, "r", V34, () -> Reply.Reject.INSTANCE),
            valid(35, "t", V35, () -> Reply.TemporaryFailure.INSTANCE),
            valid(36, "d", V36, () -> Reply.Discard.INSTANCE),
            valid(37, "p", V37, () -> Reply.Progress.INSTANCE),
            valid(38, "s", V38, () -> Reply.Skip.INSTANCE),
            valid(39, "y 550", V39, () -> new Reply.ReplyCode("550 5.7.1 Rejected")),
            valid(40, "y 451", V40, () -> new Reply.ReplyCode("451 4.7.1 Try later")),
            valid(41, "y multi-line", V41, () -> new Reply.ReplyCode("550-5.7.1 line one\r\n550 5.7.1 line two")),
            valid(42, "h", V42, () -> new Reply.AddHeader("X-Spam", "yes")),
            valid(43, "i", V43, () -> new Reply.InsertHeader(0, "X-First", "1")),
            valid(44, "m", V44, () -> new Reply.ChangeHeader(1, "Subject", "[SPAM] Hello")),
            valid(45, "m delete", V45, () -> new Reply.ChangeHeader(1, "X-Spam", "")),
            valid(46, "+", V46, () -> new Reply.AddRecipient("<new@example.com>")),
            valid(47, "2", V47, () -> new Reply.AddRecipientWithParameters("<new@example.com>", "NOTIFY=NEVER")),
            valid(48, "-", V48, () -> new Reply.DeleteRecipient("<old@example.com>")),
            valid(49, "e", V49, () -> new Reply.ChangeFrom("<bounce@example.com>")),
            valid(50, "e with ESMTP args", V50, () -> new Reply.ChangeFrom("<bounce@example.com>", "SIZE=100")),
            valid(51, "b", V51, () -> new Reply.ReplaceBody(Unpooled.copiedBuffer("New body\r\n",
                    StandardCharsets.ISO_8859_1))),
            valid(52, "q", V52, () -> new Reply.Quarantine("suspicious")),
            valid(53, "f", V53, () -> Reply.ConnectionFailure.INSTANCE),
            valid(54, "4", V54, () -> Reply.Shutdown.INSTANCE));
    }

    /** Vectors 55-66. */
    static List<Invalid> invalid() {
        return List.of(
            new Invalid(55, "zero length", Hex.bytes(V55), Reason.SHORT_LENGTH, true, true),
            new Invalid(56, "absurd length", Hex.bytes(V56), Reason.LONG_LENGTH, true, true),
            new Invalid(57, "length >= 2^31", Hex.bytes(V57), Reason.LONG_LENGTH, true, true),
            new Invalid(58, "unknown command Z", Hex.bytes(V58), Reason.UNEXPECTED_COMMAND, true, true),
            new Invalid(59, "H without NUL", Hex.bytes(V59), Reason.MISSING_NUL, true, false),
            new Invalid(60, "L with one string", Hex.bytes(V60), Reason.WRONG_ARGUMENT_COUNT, true, false),
            new Invalid(61, "C with family X", Hex.bytes(V61), Reason.UNKNOWN_FAMILY, true, false),
            new Invalid(62, "O shorter than 12 bytes", Hex.bytes(V62), Reason.TRUNCATED_FIELD, true, true),
            new Invalid(63, "c with trailing byte", Hex.bytes(V63), Reason.TRAILING_BYTES, false, true),
            new Invalid(64, "y with 2xx", Hex.bytes(V64), Reason.INVALID_REPLY_CODE, false, true),
            new Invalid(65, "i with truncated index", Hex.bytes(V65), Reason.TRUNCATED_FIELD, false, true),
            new Invalid(66, "truncated packet then EOF", Hex.bytes(V66), Reason.UNEXPECTED_END, true, true));
    }
}
