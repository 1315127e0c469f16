package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The negotiation rules of section 4 from both sides. */
class NegotiationTest {
    private static final Option V6_OFFER = new Option(6, 0x1FF, 0x1FFFFF);
    private static final Option V2_OFFER = new Option(2, 0x1FF, 0x7F);
    private static final int NR_HDR_NOUNKNOWN = ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_UNKNOWN;

    @Test
    void milterAskingNoHeaderRepliesAndNoUnknownGetsExactlyThat() throws NegotiationException {
        Option reply = Negotiation.milterReply(V6_OFFER, new Option(6, 0, NR_HDR_NOUNKNOWN));
        assertEquals(new Option(6, 0, 0x180), reply);
        Option effective = Negotiation.checkReply(V6_OFFER, reply);
        assertEquals(0x180, effective.protocol());
        // The MTA must not wait for replies to L and must not send U.
        assertTrue(effective.has(ProtocolFlags.noReplyFlag(CommandType.HEADER)));
        assertTrue(effective.has(ProtocolFlags.noEventFlag(CommandType.UNKNOWN)));
        assertEquals(0, effective.protocol() & ProtocolFlags.noReplyFlag(CommandType.BODY));
    }

    @Test
    void newerVersionThanOfferedIsRefused() {
        NegotiationException error = assertThrows(NegotiationException.class,
                () -> Negotiation.checkReply(V6_OFFER, new Option(7, 0, 0)));
        assertTrue(error.getMessage().contains("7"), error.getMessage());
        assertThrows(NegotiationException.class, () -> Negotiation.checkReply(V2_OFFER, new Option(6, 0, 0)));
    }

    @Test
    void versionOneIsRefused() {
        assertThrows(NegotiationException.class, () -> Negotiation.checkReply(V6_OFFER, new Option(1, 0, 0)));
        assertThrows(NegotiationException.class, () -> Negotiation.milterReply(new Option(1, 0x0F, 0x3F),
                new Option(6, 0, 0)));
    }

    @Test
    void unofferedActionIsRefused() {
        NegotiationException error = assertThrows(NegotiationException.class,
                () -> Negotiation.checkReply(V6_OFFER, new Option(6, 0x200, 0)));
        assertTrue(error.getMessage().contains("0x200"), error.getMessage());
        assertThrows(NegotiationException.class,
                () -> Negotiation.checkReply(new Option(6, 0x0F, 0x1FFFFF), new Option(6, 0x10, 0)));
    }

    @Test
    void unofferedProtocolBitsAreDroppedAndReported() throws NegotiationException {
        Option offer = new Option(6, 0x1FF, 0x3F);
        Option reply = new Option(6, 0, 0x180 | ProtocolFlags.NO_BODY);
        Option effective = Negotiation.checkReply(offer, reply);
        assertEquals(ProtocolFlags.NO_BODY, effective.protocol());
        assertEquals(0x180, Negotiation.unofferedProtocolBits(offer, reply));
    }

    @Test
    void olderMilterVersionsGetNoEventsTheyDoNotKnow() throws NegotiationException {
        Option v2 = Negotiation.checkReply(V6_OFFER, new Option(2, 0x0F, ProtocolFlags.NO_BODY));
        assertEquals(ProtocolFlags.NO_BODY | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.NO_DATA, v2.protocol());
        Option v3 = Negotiation.checkReply(V6_OFFER, new Option(3, 0, 0));
        assertEquals(ProtocolFlags.NO_DATA, v3.protocol());
        Option v4 = Negotiation.checkReply(V6_OFFER, new Option(4, 0, 0));
        assertEquals(0, v4.protocol());
    }

    @Test
    void milterAnswersAVersionTwoOfferWithWhatItCanUse() throws NegotiationException {
        int wanted = ProtocolFlags.NO_REPLY_HEADER | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.NO_DATA
                | ProtocolFlags.SKIP | ProtocolFlags.NO_REPLY_CONNECT | ProtocolFlags.NO_BODY;
        Option reply = Negotiation.milterReply(V2_OFFER,
                new Option(6, ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_HEADERS, wanted));
        // No-reply bits are faked with continue, data/unknown never come, skip is not understood.
        assertEquals(new Option(2, 0x11, ProtocolFlags.NO_BODY), reply);
        Option effective = Negotiation.checkReply(V2_OFFER, reply);
        assertEquals(ProtocolFlags.NO_BODY | ProtocolFlags.NO_UNKNOWN | ProtocolFlags.NO_DATA, effective.protocol());
    }

    @Test
    void milterNeedingActionsTheMtaLacksIsRefused() {
        NegotiationException error = assertThrows(NegotiationException.class,
                () -> Negotiation.milterReply(Option.offer(2), new Option(6, ActionFlags.CHANGE_ENVELOPE_FROM, 0)));
        assertTrue(error.getMessage().contains("does not fulfill action requirements"), error.getMessage());
    }

    @Test
    void milterNeedingProtocolTheMtaLacksIsRefused() {
        NegotiationException error = assertThrows(NegotiationException.class,
                () -> Negotiation.milterReply(new Option(6, 0x1FF, 0x0FFFFF),
                        new Option(6, 0, ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE)));
        assertTrue(error.getMessage().contains("does not fulfill protocol requirements"), error.getMessage());
    }

    @Test
    void zeroOfferMeansVersionOneDefaults() throws NegotiationException {
        Option offer = new Option(6, 0, 0);
        assertEquals(new Option(6, 0x0F, 0x3F),
                Negotiation.milterReply(offer, new Option(6, 0x0F, 0x3F)));
        assertThrows(NegotiationException.class, () -> Negotiation.milterReply(offer, new Option(6, 0x10, 0)));
        assertThrows(NegotiationException.class,
                () -> Negotiation.milterReply(offer, new Option(6, 0, ProtocolFlags.SKIP | 0x800)));
    }

    @Test
    void maxDataSizeBitsSurviveOnlyWhenOffered() throws NegotiationException {
        Option offer = new Option(6, 0x1FF, 0x1FFFFF | ProtocolFlags.MAX_DATA_SIZE_256K
                | ProtocolFlags.MAX_DATA_SIZE_1M);
        Option reply = Negotiation.milterReply(offer,
                new Option(6, 0, ProtocolFlags.MAX_DATA_SIZE_1M | ProtocolFlags.NO_BODY | 0x40000000));
        assertEquals(ProtocolFlags.MAX_DATA_SIZE_1M | ProtocolFlags.NO_BODY, reply.protocol(),
                "the reserved bit is stripped");
        assertEquals(1048575, ProtocolFlags.maxDataSize(Negotiation.checkReply(offer, reply).protocol()));

        Option plain = Negotiation.milterReply(V6_OFFER, new Option(6, 0, ProtocolFlags.MAX_DATA_SIZE_1M));
        assertEquals(0, plain.protocol());
        assertEquals(65535, ProtocolFlags.maxDataSize(Negotiation.checkReply(V6_OFFER, plain).protocol()));
    }

    @Test
    void macroListsTravelOnlyWithSetSymbolList() throws NegotiationException {
        Map<MacroStage, List<String>> lists = Map.of(MacroStage.ENVELOPE_FROM, List.of("{auth_authen}"));
        Option wanted = new Option(6, ActionFlags.ADD_HEADERS, 0, lists);
        Option reply = Negotiation.milterReply(V6_OFFER, wanted);
        assertEquals(ActionFlags.ADD_HEADERS | ActionFlags.SET_SYMBOL_LIST, reply.actions());
        assertEquals(lists, reply.macroRequests());
        assertEquals(lists, Negotiation.checkReply(V6_OFFER, reply).macroRequests());

        Option withoutSymbolList = Negotiation.milterReply(new Option(6, 0x0FF, 0x1FFFFF), wanted);
        assertEquals(ActionFlags.ADD_HEADERS, withoutSymbolList.actions());
        assertEquals(Map.of(), withoutSymbolList.macroRequests());

        Option v2 = Negotiation.milterReply(V2_OFFER, wanted);
        assertEquals(Map.of(), v2.macroRequests());
        assertNotEquals(0, v2.actions() & ActionFlags.ADD_HEADERS);
    }

    @Test
    void replyVersionIsCappedAtSix() throws NegotiationException {
        assertEquals(6, Negotiation.milterReply(new Option(9, 0x1FF, 0x1FFFFF), new Option(6, 0, 0)).version());
        assertEquals(4, Negotiation.milterReply(new Option(4, 0x1FF, 0x37F), new Option(6, 0, 0)).version());
    }
}
