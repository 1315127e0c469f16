package milter.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A packet from the MTA to a milter ({@code SMFIC_*}). Strings hold the wire bytes one char per byte
 * (ISO-8859-1), so every packet round-trips exactly whatever charset the peer used.
 */
public sealed interface Command {

    CommandType type();

    /** {@code O}: the MTA's offer. */
    record Negotiate(Option option) implements Command {
        public Negotiate {
            Objects.requireNonNull(option, "option");
        }

        @Override
        public CommandType type() {
            return CommandType.NEGOTIATE;
        }
    }

    /** {@code D}: macros for the command that follows; names verbatim as on the wire ({@code j}, {@code {daemon_name}}). */
    record DefineMacro(CommandType stage, Map<String, String> macros) implements Command {
        public DefineMacro {
            Objects.requireNonNull(stage, "stage");
            if (!stage.carriesMacros()) {
                throw new IllegalArgumentException("macros cannot be defined for " + stage.nick());
            }
            macros = Collections.unmodifiableMap(new LinkedHashMap<>(macros));
        }

        @Override
        public CommandType type() {
            return CommandType.DEFINE_MACRO;
        }
    }

    /** {@code C}: port and address are absent (0 and null) for family {@link SocketFamily#UNKNOWN}. */
    record Connect(String host, SocketFamily family, int port, String address) implements Command {
        public Connect {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(family, "family");
            if (family == SocketFamily.UNKNOWN) {
                port = 0;
                address = null;
            } else {
                Objects.requireNonNull(address, "address");
                if (port < 0 || port > 0xFFFF) {
                    throw new IllegalArgumentException("port out of range: " + port);
                }
            }
        }

        @Override
        public CommandType type() {
            return CommandType.CONNECT;
        }
    }

    /** {@code H}. */
    record Helo(String fqdn) implements Command {
        public Helo {
            Objects.requireNonNull(fqdn, "fqdn");
        }

        @Override
        public CommandType type() {
            return CommandType.HELO;
        }
    }

    /** {@code M}: the address as given in SMTP (with angle brackets) and its ESMTP parameters. */
    record EnvelopeFrom(String address, List<String> parameters) implements Command {
        public EnvelopeFrom {
            Objects.requireNonNull(address, "address");
            parameters = List.copyOf(parameters);
        }

        public EnvelopeFrom(String address) {
            this(address, List.of());
        }

        @Override
        public CommandType type() {
            return CommandType.ENVELOPE_FROM;
        }
    }

    /** {@code R}: the address as given in SMTP (with angle brackets) and its ESMTP parameters. */
    record EnvelopeRecipient(String address, List<String> parameters) implements Command {
        public EnvelopeRecipient {
            Objects.requireNonNull(address, "address");
            parameters = List.copyOf(parameters);
        }

        public EnvelopeRecipient(String address) {
            this(address, List.of());
        }

        @Override
        public CommandType type() {
            return CommandType.ENVELOPE_RECIPIENT;
        }
    }

    /** {@code T}. */
    record Data() implements Command {
        public static final Data INSTANCE = new Data();

        @Override
        public CommandType type() {
            return CommandType.DATA;
        }
    }

    /** {@code L}: name without colon; value as sent (one leading space removed unless leading space was negotiated). */
    record Header(String name, String value) implements Command {
        public Header {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public CommandType type() {
            return CommandType.HEADER;
        }
    }

    /** {@code N}. */
    record EndOfHeader() implements Command {
        public static final EndOfHeader INSTANCE = new EndOfHeader();

        @Override
        public CommandType type() {
            return CommandType.END_OF_HEADER;
        }
    }

    /** {@code B}: one body chunk. Owns a reference to {@code content} (see {@link ByteBufMessage}). */
    record Body(ByteBuf content) implements Command, ByteBufMessage {
        public Body {
            Objects.requireNonNull(content, "content");
        }

        @Override
        public Body replace(ByteBuf newContent) {
            return new Body(newContent);
        }

        @Override
        public CommandType type() {
            return CommandType.BODY;
        }

        @Override
        public String toString() {
            return "Body[" + content.readableBytes() + " bytes]";
        }
    }

    /** {@code E}: normally empty; data, if any, is a last body chunk. Owns a reference to {@code content}. */
    record EndOfMessage(ByteBuf content) implements Command, ByteBufMessage {
        public EndOfMessage {
            Objects.requireNonNull(content, "content");
        }

        public EndOfMessage() {
            this(Unpooled.EMPTY_BUFFER);
        }

        @Override
        public EndOfMessage replace(ByteBuf newContent) {
            return new EndOfMessage(newContent);
        }

        @Override
        public CommandType type() {
            return CommandType.END_OF_MESSAGE;
        }

        @Override
        public String toString() {
            return "EndOfMessage[" + content.readableBytes() + " bytes]";
        }
    }

    /** {@code A}. */
    record Abort() implements Command {
        public static final Abort INSTANCE = new Abort();

        @Override
        public CommandType type() {
            return CommandType.ABORT;
        }
    }

    /** {@code Q}. */
    record Quit() implements Command {
        public static final Quit INSTANCE = new Quit();

        @Override
        public CommandType type() {
            return CommandType.QUIT;
        }
    }

    /** {@code K}: end this SMTP session but keep the connection for the next one, without renegotiation. */
    record QuitNewConnection() implements Command {
        public static final QuitNewConnection INSTANCE = new QuitNewConnection();

        @Override
        public CommandType type() {
            return CommandType.QUIT_NEW_CONNECTION;
        }
    }

    /** {@code U}: an SMTP command line the MTA did not recognise. */
    record Unknown(String command) implements Command {
        public Unknown {
            Objects.requireNonNull(command, "command");
        }

        @Override
        public CommandType type() {
            return CommandType.UNKNOWN;
        }
    }
}
