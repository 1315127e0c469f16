package milter.core.protocol;

/**
 * {@code SMFIP_*} ("steps" upstream): events the milter does not want (no-event flags), events it will not
 * answer (no-reply flags) and capabilities (skip, envelope-recipient-rejected, leading space).
 */
public final class ProtocolFlags {
    public static final int NONE = 0;
    public static final int NO_CONNECT = 0x00000001;
    public static final int NO_HELO = 0x00000002;
    public static final int NO_ENVELOPE_FROM = 0x00000004;
    public static final int NO_ENVELOPE_RECIPIENT = 0x00000008;
    public static final int NO_BODY = 0x00000010;
    public static final int NO_HEADERS = 0x00000020;
    public static final int NO_END_OF_HEADER = 0x00000040;
    public static final int NO_REPLY_HEADER = 0x00000080;
    public static final int NO_UNKNOWN = 0x00000100;
    public static final int NO_DATA = 0x00000200;
    public static final int SKIP = 0x00000400;
    public static final int ENVELOPE_RECIPIENT_REJECTED = 0x00000800;
    public static final int NO_REPLY_CONNECT = 0x00001000;
    public static final int NO_REPLY_HELO = 0x00002000;
    public static final int NO_REPLY_ENVELOPE_FROM = 0x00004000;
    public static final int NO_REPLY_ENVELOPE_RECIPIENT = 0x00008000;
    public static final int NO_REPLY_DATA = 0x00010000;
    public static final int NO_REPLY_UNKNOWN = 0x00020000;
    public static final int NO_REPLY_END_OF_HEADER = 0x00040000;
    public static final int NO_REPLY_BODY = 0x00080000;
    public static final int HEADER_VALUE_WITH_LEADING_SPACE = 0x00100000;
    public static final int MAX_DATA_SIZE_256K = 0x10000000;
    public static final int MAX_DATA_SIZE_1M = 0x20000000;
    /** Bits reserved for the MTA's internal use; never requested by a milter except the accepted MDS size. */
    public static final int INTERNAL_MASK = 0x70000000;

    public static final int NO_EVENT_MASK = NO_CONNECT | NO_HELO | NO_ENVELOPE_FROM | NO_ENVELOPE_RECIPIENT
            | NO_BODY | NO_HEADERS | NO_END_OF_HEADER | NO_UNKNOWN | NO_DATA;
    public static final int NO_REPLY_MASK = NO_REPLY_CONNECT | NO_REPLY_HELO | NO_REPLY_ENVELOPE_FROM
            | NO_REPLY_ENVELOPE_RECIPIENT | NO_REPLY_DATA | NO_REPLY_HEADER | NO_REPLY_UNKNOWN
            | NO_REPLY_END_OF_HEADER | NO_REPLY_BODY;
    public static final int YES_MASK = SKIP | ENVELOPE_RECIPIENT_REJECTED | HEADER_VALUE_WITH_LEADING_SPACE;

    /** Flags a version 2 peer knows. */
    public static final int V2_MASK = 0x0000007F;
    /** Postfix's offer at protocol 3 and 4. */
    public static final int V3_MASK = 0x0000017F;
    public static final int V4_MASK = 0x0000037F;
    /** Every documented flag of protocol version 6. */
    public static final int ALL = 0x001FFFFF;

    private static final int[] BITS = {
        NO_CONNECT, NO_HELO, NO_ENVELOPE_FROM, NO_ENVELOPE_RECIPIENT, NO_BODY, NO_HEADERS, NO_END_OF_HEADER,
        NO_REPLY_HEADER, NO_UNKNOWN, NO_DATA, SKIP, ENVELOPE_RECIPIENT_REJECTED, NO_REPLY_CONNECT, NO_REPLY_HELO,
        NO_REPLY_ENVELOPE_FROM, NO_REPLY_ENVELOPE_RECIPIENT, NO_REPLY_DATA, NO_REPLY_UNKNOWN,
        NO_REPLY_END_OF_HEADER, NO_REPLY_BODY, HEADER_VALUE_WITH_LEADING_SPACE, MAX_DATA_SIZE_256K,
        MAX_DATA_SIZE_1M,
    };
    private static final String[] NICKS = {
        "no-connect", "no-helo", "no-envelope-from", "no-envelope-recipient", "no-body", "no-headers",
        "no-end-of-header", "no-reply-header", "no-unknown", "no-data", "skip", "envelope-recipient-rejected",
        "no-reply-connect", "no-reply-helo", "no-reply-envelope-from", "no-reply-envelope-recipient",
        "no-reply-data", "no-reply-unknown", "no-reply-end-of-header", "no-reply-body",
        "header-value-with-leading-space", "max-data-size-256k", "max-data-size-1m",
    };

    private ProtocolFlags() {
    }

    /** The flags a peer of that protocol version may offer. */
    public static int maskForVersion(int version) {
        return switch (version) {
            case 2 -> V2_MASK;
            case 3 -> V3_MASK;
            case 4, 5 -> V4_MASK;
            default -> version >= 6 ? ALL : V2_MASK;
        };
    }

    /** The no-event flag that suppresses a command, or 0 when the command cannot be suppressed. */
    public static int noEventFlag(CommandType command) {
        return switch (command) {
            case CONNECT -> NO_CONNECT;
            case HELO -> NO_HELO;
            case ENVELOPE_FROM -> NO_ENVELOPE_FROM;
            case ENVELOPE_RECIPIENT -> NO_ENVELOPE_RECIPIENT;
            case DATA -> NO_DATA;
            case HEADER -> NO_HEADERS;
            case END_OF_HEADER -> NO_END_OF_HEADER;
            case BODY -> NO_BODY;
            case UNKNOWN -> NO_UNKNOWN;
            default -> 0;
        };
    }

    /** The no-reply flag for a command, or 0 when that command's reply cannot be suppressed. */
    public static int noReplyFlag(CommandType command) {
        return switch (command) {
            case CONNECT -> NO_REPLY_CONNECT;
            case HELO -> NO_REPLY_HELO;
            case ENVELOPE_FROM -> NO_REPLY_ENVELOPE_FROM;
            case ENVELOPE_RECIPIENT -> NO_REPLY_ENVELOPE_RECIPIENT;
            case DATA -> NO_REPLY_DATA;
            case HEADER -> NO_REPLY_HEADER;
            case END_OF_HEADER -> NO_REPLY_END_OF_HEADER;
            case BODY -> NO_REPLY_BODY;
            case UNKNOWN -> NO_REPLY_UNKNOWN;
            default -> 0;
        };
    }

    /** Largest payload a frame may carry under these flags (65535 unless an MDS size was negotiated). */
    public static int maxDataSize(int protocol) {
        if ((protocol & MAX_DATA_SIZE_1M) != 0) {
            return 1048575;
        }
        if ((protocol & MAX_DATA_SIZE_256K) != 0) {
            return 262143;
        }
        return 65535;
    }

    public static String toString(int protocol) {
        return Flags.render(protocol, BITS, NICKS);
    }

    /** Parses {@code no-connect|skip}; {@code all} and {@code none} are accepted. */
    public static int parse(String text) {
        return Flags.parse(text, BITS, NICKS, "protocol flag");
    }
}
