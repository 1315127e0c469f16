package milter.core.protocol;

import java.util.Locale;

/** The flag rules of option negotiation, for both sides. */
public final class Negotiation {
    private Negotiation() {
    }

    /**
     * MTA side: checks a milter's reply against what was offered and returns the effective option. Protocol bits
     * the MTA did not offer are dropped (as Postfix and upstream do) rather than refused.
     */
    public static Option checkReply(Option offer, Option reply) throws NegotiationException {
        if (reply.version() > offer.version()) {
            throw new NegotiationException("unsupported newer version is requested: " + reply.version() + " > "
                    + offer.version());
        }
        if (reply.version() < 2) {
            throw new NegotiationException("unsupported older version is requested: " + reply.version());
        }
        int extraActions = reply.actions() & ~offer.actions();
        if (extraActions != 0) {
            throw new NegotiationException(String.format(Locale.ROOT,
                    "requested actions 0x%x conflict with offered actions 0x%x", reply.actions(), offer.actions()));
        }
        int protocol = reply.protocol() & offer.protocol();
        // Events a milter of an older version does not know are never sent to it.
        if (reply.version() <= 2) {
            protocol |= ProtocolFlags.NO_UNKNOWN;
        }
        if (reply.version() <= 3) {
            protocol |= ProtocolFlags.NO_DATA;
        }
        return new Option(reply.version(), reply.actions(), protocol, reply.macroRequests());
    }

    /** The protocol bits of a reply that the offer did not contain (to be logged as a warning). */
    public static int unofferedProtocolBits(Option offer, Option reply) {
        return reply.protocol() & ~offer.protocol();
    }

    /**
     * Milter side, libmilter-compatible: builds the reply to an MTA offer from what the milter wants.
     *
     * @param offer   the MTA's {@code O}
     * @param wanted  the actions the milter requires, the protocol bits it asks for, and its macro lists
     */
    public static Option milterReply(Option offer, Option wanted) throws NegotiationException {
        if (offer.version() < 2) {
            throw new NegotiationException("protocol version too old: " + offer.version());
        }
        int version = Math.min(offer.version(), Option.CURRENT_VERSION);
        int offeredActions = offer.actions() == 0 ? 0x0F : offer.actions();
        int offeredProtocol = offer.protocol() == 0 ? 0x3F : offer.protocol();
        int actions = wanted.actions();
        if ((actions & ~offeredActions) != 0) {
            throw new NegotiationException(String.format(Locale.ROOT,
                    "0x%x does not fulfill action requirements 0x%x", offeredActions, actions));
        }
        int protocol = wanted.protocol() & ~ProtocolFlags.INTERNAL_MASK;
        // Unoffered no-reply bits are faked by answering continue; unoffered data/unknown events never come.
        protocol &= ~(ProtocolFlags.NO_REPLY_MASK & ~offeredProtocol);
        protocol &= ~((ProtocolFlags.NO_DATA | ProtocolFlags.NO_UNKNOWN) & ~offeredProtocol);
        protocol &= ~(ProtocolFlags.SKIP & ~offeredProtocol);
        if ((protocol & ~offeredProtocol) != 0) {
            throw new NegotiationException(String.format(Locale.ROOT,
                    "0x%x does not fulfill protocol requirements 0x%x", offeredProtocol, protocol));
        }
        int mds = wanted.protocol() & offeredProtocol & (ProtocolFlags.MAX_DATA_SIZE_256K
                | ProtocolFlags.MAX_DATA_SIZE_1M);
        if (wanted.macroRequests().isEmpty() || version < 6
                || (offeredActions & ActionFlags.SET_SYMBOL_LIST) == 0) {
            return new Option(version, actions & ~ActionFlags.SET_SYMBOL_LIST, protocol | mds);
        }
        return new Option(version, actions | ActionFlags.SET_SYMBOL_LIST, protocol | mds,
                wanted.macroRequests());
    }
}
