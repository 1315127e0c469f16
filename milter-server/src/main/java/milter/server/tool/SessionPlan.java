package milter.server.tool;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;

/**
 * Everything a test session sends, built once and shared by every session of a run: the commands are immutable
 * records and the body chunks read-only buffers that each session sends as a retained duplicate, so a session
 * costs little more than its connection. {@link #release()} frees the buffers when the run is over.
 */
final class SessionPlan {
    final Option offer;
    final Command.DefineMacro connectMacros;
    final Command.Connect connect;
    final Command.DefineMacro heloMacros;
    final Command.Helo helo;
    final Command.DefineMacro envelopeFromMacros;
    final Command.EnvelopeFrom envelopeFrom;
    final List<Command.DefineMacro> recipientMacros;
    final List<Command.EnvelopeRecipient> recipients;
    final Command.Unknown unknown;
    final Command.DefineMacro dataMacros;
    final List<Command.Header> headers;
    final Command.DefineMacro endOfHeaderMacros;
    final List<ByteBuf> bodyChunks;
    final Command.DefineMacro endOfMessageMacros;
    private final List<TestMessage.Header> messageHeaders;
    private final List<String> bodyTexts;

    SessionPlan(Option offer, Command.Connect connect, String heloFqdn, String envelopeFrom,
            List<String> recipients, String unknown, List<TestMessage.Header> headers, List<String> bodyChunks,
            Map<CommandType, Map<String, String>> macros) {
        this.offer = offer;
        this.connectMacros = macros(CommandType.CONNECT, macros.get(CommandType.CONNECT));
        this.connect = connect;
        this.heloMacros = macros(CommandType.HELO, macros.get(CommandType.HELO));
        this.helo = new Command.Helo(heloFqdn);
        this.envelopeFromMacros = macros(CommandType.ENVELOPE_FROM, macros.get(CommandType.ENVELOPE_FROM));
        this.envelopeFrom = new Command.EnvelopeFrom(envelopeFrom);
        this.recipientMacros = new ArrayList<>();
        this.recipients = new ArrayList<>();
        Map<String, String> recipientBase = macros.get(CommandType.ENVELOPE_RECIPIENT);
        for (String recipient : recipients) {
            Map<String, String> perRecipient = MacroTable.newTable();
            if (recipientBase != null) {
                perRecipient.putAll(recipientBase);
            }
            perRecipient.put("{rcpt_addr}", recipient);
            this.recipientMacros.add(macros(CommandType.ENVELOPE_RECIPIENT, perRecipient));
            this.recipients.add(new Command.EnvelopeRecipient(recipient));
        }
        this.unknown = unknown == null ? null : new Command.Unknown(unknown);
        this.dataMacros = macros(CommandType.DATA, macros.get(CommandType.DATA));
        this.headers = headers.stream().map(h -> new Command.Header(h.name(), h.value())).toList();
        this.endOfHeaderMacros = macros(CommandType.END_OF_HEADER, macros.get(CommandType.END_OF_HEADER));
        this.bodyChunks = bodyChunks.stream()
                .map(text -> Unpooled.unreleasableBuffer(
                        Unpooled.directBuffer(text.length()).writeBytes(text.getBytes(StandardCharsets.ISO_8859_1))))
                .toList();
        this.endOfMessageMacros = macros(CommandType.END_OF_MESSAGE, macros.get(CommandType.END_OF_MESSAGE));
        this.messageHeaders = List.copyOf(headers);
        this.bodyTexts = List.copyOf(bodyChunks);
    }

    private static Command.DefineMacro macros(CommandType stage, Map<String, String> macros) {
        return macros == null || macros.isEmpty() ? null : new Command.DefineMacro(stage, macros);
    }

    /** A fresh copy of the message for one session, to apply that session's modifications to. */
    TestMessage newMessage() {
        List<String> addresses = recipients.stream().map(Command.EnvelopeRecipient::address).toList();
        return new TestMessage(envelopeFrom.address(), addresses, messageHeaders, bodyTexts);
    }

    /** A body chunk for one send: the session owns (and releases) the duplicate. */
    Command.Body body(int index) {
        return new Command.Body(bodyChunks.get(index).duplicate());
    }

    void release() {
        // The chunks are unreleasable wrappers (sessions cannot free them by accident); free what they wrap.
        for (ByteBuf chunk : bodyChunks) {
            chunk.unwrap().release();
        }
    }
}
