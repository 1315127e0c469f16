package milter.core.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyEncoder;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;

/** The packets of one typical SMTP session, in both directions, as Postfix and a libmilter milter send them. */
final class SessionTraffic {
    static final int BODY_CHUNK = 4096;

    private SessionTraffic() {
    }

    /**
     * negotiate, macros, connect, helo, mail, two recipients, data, ten headers, end of headers, three body
     * chunks, end of message; body chunks are views of {@code body} (the caller keeps its reference).
     */
    static List<Command> commands(ByteBuf body) {
        List<Command> out = new ArrayList<>();
        out.add(new Command.Negotiate(Option.offer(6)));
        out.add(new Command.DefineMacro(CommandType.CONNECT,
                macros("j", "mx.example.com", "{daemon_name}", "smtpd", "v", "Postfix 3.7.11")));
        out.add(new Command.Connect("mail.example.org", SocketFamily.INET, 50443, "192.0.2.10"));
        out.add(new Command.DefineMacro(CommandType.HELO, macros("{tls_version}", "TLSv1.3",
                "{cipher}", "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256")));
        out.add(new Command.Helo("client.example.net"));
        out.add(new Command.DefineMacro(CommandType.ENVELOPE_FROM, macros("i", "4QZ1xL2cXyz",
                "{mail_addr}", "sender@example.com", "{mail_host}", "example.com", "{mail_mailer}", "smtp")));
        out.add(new Command.EnvelopeFrom("<sender@example.com>", List.of("SIZE=12345", "BODY=8BITMIME")));
        for (String rcpt : List.of("alice@example.org", "bob@example.org")) {
            out.add(new Command.DefineMacro(CommandType.ENVELOPE_RECIPIENT,
                    macros("{rcpt_addr}", rcpt, "{rcpt_host}", "example.org", "{rcpt_mailer}", "local")));
            out.add(new Command.EnvelopeRecipient("<" + rcpt + ">", List.of("NOTIFY=NEVER")));
        }
        out.add(new Command.DefineMacro(CommandType.DATA, macros("i", "4QZ1xL2cXyz")));
        out.add(Command.Data.INSTANCE);
        String[][] headers = {
            {"Received", "from client.example.net (client.example.net [192.0.2.10])\n\tby mx.example.com"
                    + " (Postfix) with ESMTPS id 4QZ1xL2cXyz\n\tfor <alice@example.org>; Tue, 1 Oct 2024"},
            {"From", "Sender <sender@example.com>"},
            {"To", "Alice <alice@example.org>, Bob <bob@example.org>"},
            {"Subject", "Quarterly report"},
            {"Date", "Tue, 1 Oct 2024 10:00:00 +0000"},
            {"Message-ID", "<20241001100000.12345@example.com>"},
            {"MIME-Version", "1.0"},
            {"Content-Type", "text/plain; charset=UTF-8"},
            {"Content-Transfer-Encoding", "8bit"},
            {"X-Mailer", "Example Mailer 1.0"},
        };
        for (String[] header : headers) {
            out.add(new Command.Header(header[0], header[1]));
        }
        out.add(Command.EndOfHeader.INSTANCE);
        int chunk = body.readableBytes() / 3;
        for (int i = 0; i < 3; i++) {
            out.add(new Command.Body(body.slice(body.readerIndex() + i * chunk, chunk)));
        }
        out.add(new Command.EndOfMessage());
        return out;
    }

    /** The milter's side: negotiate reply, a continue per command, a header added at end of message. */
    static List<Reply> replies() {
        List<Reply> out = new ArrayList<>();
        out.add(new Reply.Negotiate(new Option(6, ActionFlags.ADD_HEADERS | ActionFlags.SET_SYMBOL_LIST,
                ProtocolFlags.NO_UNKNOWN | ProtocolFlags.SKIP,
                Map.of(MacroStage.ENVELOPE_FROM, List.of("{auth_authen}", "{mail_addr}")))));
        // connect, helo, mail, 2 rcpt, data, 10 headers, eoh, 3 body chunks
        for (int i = 0; i < 1 + 1 + 1 + 2 + 1 + 10 + 1 + 3; i++) {
            out.add(Reply.Continue.INSTANCE);
        }
        out.add(new Reply.AddHeader("X-Scanned", "yes; score=0.1"));
        out.add(new Reply.InsertHeader(0, "Authentication-Results", "mx.example.com; spf=pass"));
        out.add(Reply.Accept.INSTANCE);
        return out;
    }

    /** Body chunks for {@link #commands}: three chunks of {@value #BODY_CHUNK} bytes of text. */
    static ByteBuf body(ByteBufAllocator alloc) {
        byte[] line = "The quick brown fox jumps over the lazy dog, 0123456789.\r\n"
                .getBytes(StandardCharsets.US_ASCII);
        ByteBuf body = alloc.directBuffer(3 * BODY_CHUNK);
        while (body.writableBytes() > 0) {
            body.writeBytes(line, 0, Math.min(line.length, body.writableBytes()));
        }
        return body;
    }

    /** The wire form of the commands, in a fresh direct buffer. */
    static ByteBuf encodeCommands(ByteBufAllocator alloc, List<Command> commands) {
        List<Object> out = new ArrayList<>();
        for (Command command : commands) {
            CommandEncoder.encode(alloc, command, out);
        }
        return join(alloc, out);
    }

    /** The wire form of the replies, in a fresh direct buffer. */
    static ByteBuf encodeReplies(ByteBufAllocator alloc, List<Reply> replies) {
        List<Object> out = new ArrayList<>();
        for (Reply reply : replies) {
            ReplyEncoder.encode(alloc, reply, out);
        }
        return join(alloc, out);
    }

    private static ByteBuf join(ByteBufAllocator alloc, List<Object> parts) {
        int size = 0;
        for (Object part : parts) {
            size += ((ByteBuf) part).readableBytes();
        }
        ByteBuf all = alloc.directBuffer(size);
        for (Object part : parts) {
            ByteBuf buf = (ByteBuf) part;
            all.writeBytes(buf);
            buf.release();
        }
        return all;
    }

    private static Map<String, String> macros(String... namesAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }
}
