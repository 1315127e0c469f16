package milter.core.protocol;

import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Objects;

/**
 * A packet from a milter to the MTA ({@code SMFIR_*}). Strings hold the wire bytes one char per byte
 * (ISO-8859-1).
 */
public sealed interface Reply {

    ReplyType type();

    /** {@code O}: the milter's side of negotiation, with its macro lists. */
    record Negotiate(Option option) implements Reply {
        public Negotiate {
            Objects.requireNonNull(option, "option");
        }

        @Override
        public ReplyType type() {
            return ReplyType.NEGOTIATE;
        }
    }

    record Continue() implements Reply {
        public static final Continue INSTANCE = new Continue();

        @Override
        public ReplyType type() {
            return ReplyType.CONTINUE;
        }
    }

    record Accept() implements Reply {
        public static final Accept INSTANCE = new Accept();

        @Override
        public ReplyType type() {
            return ReplyType.ACCEPT;
        }
    }

    record Reject() implements Reply {
        public static final Reject INSTANCE = new Reject();

        @Override
        public ReplyType type() {
            return ReplyType.REJECT;
        }
    }

    record TemporaryFailure() implements Reply {
        public static final TemporaryFailure INSTANCE = new TemporaryFailure();

        @Override
        public ReplyType type() {
            return ReplyType.TEMPORARY_FAILURE;
        }
    }

    record Discard() implements Reply {
        public static final Discard INSTANCE = new Discard();

        @Override
        public ReplyType type() {
            return ReplyType.DISCARD;
        }
    }

    /**
     * {@code y}: a full SMTP reply without trailing CRLF ({@code 550 5.7.1 text}; lines joined by CRLF for a
     * multi-line reply). Construct through {@link ReplyCode#of} or {@link ReplyCode#parse} to validate it.
     */
    record ReplyCode(String reply) implements Reply {
        public ReplyCode {
            Objects.requireNonNull(reply, "reply");
        }

        /** Validates and builds a reply code; see {@link ReplyCodes#validate}. */
        public static ReplyCode parse(String reply) {
            ReplyCodes.validate(reply);
            return new ReplyCode(reply);
        }

        /** Builds {@code CODE EXTENDED TEXT} (extended code and text may be null), validated. */
        public static ReplyCode of(int code, String extendedCode, String text) {
            return parse(ReplyCodes.format(code, extendedCode, text));
        }

        /** The three-digit SMTP code. */
        public int code() {
            return ReplyCodes.code(reply);
        }

        /** The status this reply code stands for: temporary-failure for 4xx, reject otherwise. */
        public Status status() {
            return reply.startsWith("4") ? Status.TEMPORARY_FAILURE : Status.REJECT;
        }

        @Override
        public ReplyType type() {
            return ReplyType.REPLY_CODE;
        }
    }

    record Skip() implements Reply {
        public static final Skip INSTANCE = new Skip();

        @Override
        public ReplyType type() {
            return ReplyType.SKIP;
        }
    }

    record Progress() implements Reply {
        public static final Progress INSTANCE = new Progress();

        @Override
        public ReplyType type() {
            return ReplyType.PROGRESS;
        }
    }

    /** {@code h}: append a header. */
    record AddHeader(String name, String value) implements Reply {
        public AddHeader {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public ReplyType type() {
            return ReplyType.ADD_HEADER;
        }
    }

    /** {@code i}: insert a header at a 0-based position. */
    record InsertHeader(int index, String name, String value) implements Reply {
        public InsertHeader {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        @Override
        public ReplyType type() {
            return ReplyType.INSERT_HEADER;
        }
    }

    /** {@code m}: change the {@code index}-th (1-based) header of that name; an empty value deletes it. */
    record ChangeHeader(int index, String name, String value) implements Reply {
        public ChangeHeader {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }

        public boolean isDelete() {
            return value.isEmpty();
        }

        @Override
        public ReplyType type() {
            return ReplyType.CHANGE_HEADER;
        }
    }

    /** {@code +}. */
    record AddRecipient(String address) implements Reply {
        public AddRecipient {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public ReplyType type() {
            return ReplyType.ADD_RECIPIENT;
        }
    }

    /** {@code 2}: add a recipient with ESMTP parameters (one string, space separated). */
    record AddRecipientWithParameters(String address, String parameters) implements Reply {
        public AddRecipientWithParameters {
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(parameters, "parameters");
        }

        @Override
        public ReplyType type() {
            return ReplyType.ADD_RECIPIENT_WITH_PARAMETERS;
        }
    }

    /** {@code -}. */
    record DeleteRecipient(String address) implements Reply {
        public DeleteRecipient {
            Objects.requireNonNull(address, "address");
        }

        @Override
        public ReplyType type() {
            return ReplyType.DELETE_RECIPIENT;
        }
    }

    /** {@code e}: parameters may be null (then only the address is on the wire). */
    record ChangeFrom(String address, String parameters) implements Reply {
        public ChangeFrom {
            Objects.requireNonNull(address, "address");
        }

        public ChangeFrom(String address) {
            this(address, null);
        }

        @Override
        public ReplyType type() {
            return ReplyType.CHANGE_FROM;
        }
    }

    /** {@code b}: one chunk of the replacement body. Owns a reference to {@code content}. */
    record ReplaceBody(ByteBuf content) implements Reply, ByteBufMessage {
        public ReplaceBody {
            Objects.requireNonNull(content, "content");
        }

        @Override
        public ReplaceBody replace(ByteBuf newContent) {
            return new ReplaceBody(newContent);
        }

        @Override
        public ReplyType type() {
            return ReplyType.REPLACE_BODY;
        }

        @Override
        public String toString() {
            return "ReplaceBody[" + content.readableBytes() + " bytes]";
        }
    }

    /** {@code q}. */
    record Quarantine(String reason) implements Reply {
        public Quarantine {
            Objects.requireNonNull(reason, "reason");
        }

        @Override
        public ReplyType type() {
            return ReplyType.QUARANTINE;
        }
    }

    /** {@code f}: the milter reports a connection failure (treated as temporary failure). */
    record ConnectionFailure() implements Reply {
        public static final ConnectionFailure INSTANCE = new ConnectionFailure();

        @Override
        public ReplyType type() {
            return ReplyType.CONNECTION_FAILURE;
        }
    }

    /** {@code 4}: the milter asks the MTA to answer 421 and disconnect. */
    record Shutdown() implements Reply {
        public static final Shutdown INSTANCE = new Shutdown();

        @Override
        public ReplyType type() {
            return ReplyType.SHUTDOWN;
        }
    }

    /**
     * {@code l}: a macro list for one stage. Never sent by libmilter (lists travel inside the negotiate reply);
     * decoded so that a peer that does send it gets a typed packet rather than an unknown-reply error.
     */
    record SetSymbolList(MacroStage stage, List<String> names) implements Reply {
        public SetSymbolList {
            Objects.requireNonNull(stage, "stage");
            names = List.copyOf(names);
        }

        @Override
        public ReplyType type() {
            return ReplyType.SET_SYMBOL_LIST;
        }
    }
}
