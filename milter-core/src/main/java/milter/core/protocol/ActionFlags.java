package milter.core.protocol;

/** {@code SMFIF_*}: the modifications a milter may make at end of message. */
public final class ActionFlags {
    public static final int NONE = 0;
    public static final int ADD_HEADERS = 0x001;
    public static final int CHANGE_BODY = 0x002;
    public static final int ADD_ENVELOPE_RECIPIENT = 0x004;
    public static final int DELETE_ENVELOPE_RECIPIENT = 0x008;
    public static final int CHANGE_HEADERS = 0x010;
    public static final int QUARANTINE = 0x020;
    public static final int CHANGE_ENVELOPE_FROM = 0x040;
    public static final int ADD_ENVELOPE_RECIPIENT_WITH_PARAMETERS = 0x080;
    public static final int SET_SYMBOL_LIST = 0x100;

    /** Actions a version 2 peer knows. */
    public static final int V2_MASK = 0x03F;
    /** Every action of protocol version 6. */
    public static final int ALL = 0x1FF;

    private static final int[] BITS = {
        ADD_HEADERS, CHANGE_BODY, ADD_ENVELOPE_RECIPIENT, DELETE_ENVELOPE_RECIPIENT, CHANGE_HEADERS,
        QUARANTINE, CHANGE_ENVELOPE_FROM, ADD_ENVELOPE_RECIPIENT_WITH_PARAMETERS, SET_SYMBOL_LIST,
    };
    private static final String[] NICKS = {
        "add-headers", "change-body", "add-envelope-recipient", "delete-envelope-recipient", "change-headers",
        "quarantine", "change-envelope-from", "add-envelope-recipient-with-parameters", "set-symbol-list",
    };

    private ActionFlags() {
    }

    /** The actions a peer of that protocol version may offer. */
    public static int maskForVersion(int version) {
        return version >= 6 ? ALL : V2_MASK;
    }

    public static String toString(int actions) {
        return Flags.render(actions, BITS, NICKS);
    }

    /** Parses {@code add-headers|change-body}; {@code all} and {@code none} are accepted. */
    public static int parse(String text) {
        return Flags.parse(text, BITS, NICKS, "action");
    }
}
