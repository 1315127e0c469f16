package milter.client;

/** How a {@link Milter}'s answer to the MTA's offer becomes the {@code O} reply. */
public enum NegotiationPolicy {
    /**
     * The milter's option is what it wants; the client applies libmilter's rules
     * ({@link milter.core.protocol.Negotiation#milterReply}): version capped by the offer, actions that were not
     * offered refuse the session, no-reply/no-data/no-unknown/skip bits the MTA did not offer are dropped, macro
     * lists only at version 6 with set-symbol-list offered.
     */
    LIBMILTER,
    /**
     * The milter's option is the reply, sent as it is (a milter manager that merged its children's answers). The
     * client only masks it with the offer to know which stages the MTA will not expect replies for.
     */
    EXACT
}
