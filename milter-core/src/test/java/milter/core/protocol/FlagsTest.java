package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FlagsTest {

    @Test
    void actionFlagsRenderAsUpstreamNicks() {
        assertEquals("none", ActionFlags.toString(0));
        assertEquals("add-headers|change-body", ActionFlags.toString(0x003));
        assertEquals("add-headers|change-body|add-envelope-recipient|delete-envelope-recipient|change-headers"
                + "|quarantine|change-envelope-from|add-envelope-recipient-with-parameters|set-symbol-list",
                ActionFlags.toString(ActionFlags.ALL));
        assertEquals("quarantine|0x200", ActionFlags.toString(0x220));
    }

    @Test
    void actionFlagsParse() {
        assertEquals(0x003, ActionFlags.parse("add-headers|change-body"));
        assertEquals(0x003, ActionFlags.parse(" ADD_HEADERS | change_body "));
        assertEquals(ActionFlags.ALL, ActionFlags.parse("all"));
        assertEquals(0, ActionFlags.parse("none"));
        assertEquals(0, ActionFlags.parse(""));
        assertEquals(0x220, ActionFlags.parse("quarantine|0x200"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ActionFlags.parse("add-headers|rewrite-body"));
        assertEquals("unknown action: <rewrite-body>", error.getMessage());
    }

    @Test
    void protocolFlagsRenderAndParse() {
        assertEquals("no-reply-header|no-unknown", ProtocolFlags.toString(0x180));
        assertEquals(0x180, ProtocolFlags.parse("no-reply-header|no-unknown"));
        assertEquals(0x180, ProtocolFlags.parse("NO_REPLY_HEADER|no_unknown"));
        assertEquals("max-data-size-1m|0x40000000", ProtocolFlags.toString(0x60000000));
        assertEquals(0x60000000, ProtocolFlags.parse("max-data-size-1m|0x40000000"));
        assertEquals(ProtocolFlags.ALL | ProtocolFlags.MAX_DATA_SIZE_256K | ProtocolFlags.MAX_DATA_SIZE_1M,
                ProtocolFlags.parse("all"));
        assertThrows(IllegalArgumentException.class, () -> ProtocolFlags.parse("0x1ffffffff"));
        assertThrows(IllegalArgumentException.class, () -> ProtocolFlags.parse("0xzz"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ProtocolFlags.parse("no-connect|no-thing"));
        assertTrue(error.getMessage().contains("<no-thing>"), error.getMessage());
    }

    @Test
    void anyWordSurvivesToStringThenParse() {
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            int word = random.nextInt();
            assertEquals(word, ActionFlags.parse(ActionFlags.toString(word)), ActionFlags.toString(word));
            assertEquals(word, ProtocolFlags.parse(ProtocolFlags.toString(word)), ProtocolFlags.toString(word));
        }
    }

    @Test
    void masksPerVersion() {
        assertEquals(0x3F, ActionFlags.maskForVersion(2));
        assertEquals(0x1FF, ActionFlags.maskForVersion(6));
        assertEquals(0x7F, ProtocolFlags.maskForVersion(2));
        assertEquals(0x17F, ProtocolFlags.maskForVersion(3));
        assertEquals(0x37F, ProtocolFlags.maskForVersion(4));
        assertEquals(0x1FFFFF, ProtocolFlags.maskForVersion(6));
        assertEquals(0x1FFFFF, ProtocolFlags.maskForVersion(7));
    }

    @Test
    void groupsPartitionTheDocumentedFlags() {
        assertEquals(0, ProtocolFlags.NO_EVENT_MASK & ProtocolFlags.NO_REPLY_MASK);
        assertEquals(0, ProtocolFlags.NO_EVENT_MASK & ProtocolFlags.YES_MASK);
        assertEquals(0, ProtocolFlags.NO_REPLY_MASK & ProtocolFlags.YES_MASK);
        assertEquals(ProtocolFlags.ALL,
                ProtocolFlags.NO_EVENT_MASK | ProtocolFlags.NO_REPLY_MASK | ProtocolFlags.YES_MASK);
    }

    @Test
    void skipAndNoReplyFlagsPerCommand() {
        assertEquals(ProtocolFlags.NO_CONNECT, ProtocolFlags.noEventFlag(CommandType.CONNECT));
        assertEquals(ProtocolFlags.NO_HEADERS, ProtocolFlags.noEventFlag(CommandType.HEADER));
        assertEquals(ProtocolFlags.NO_DATA, ProtocolFlags.noEventFlag(CommandType.DATA));
        assertEquals(ProtocolFlags.NO_UNKNOWN, ProtocolFlags.noEventFlag(CommandType.UNKNOWN));
        assertEquals(0, ProtocolFlags.noEventFlag(CommandType.END_OF_MESSAGE));
        assertEquals(0x80, ProtocolFlags.noReplyFlag(CommandType.HEADER));
        assertEquals(0x1000, ProtocolFlags.noReplyFlag(CommandType.CONNECT));
        assertEquals(0x80000, ProtocolFlags.noReplyFlag(CommandType.BODY));
        assertEquals(0, ProtocolFlags.noReplyFlag(CommandType.END_OF_MESSAGE));
        assertEquals(0, ProtocolFlags.noReplyFlag(CommandType.ABORT));
        int all = 0;
        for (CommandType type : CommandType.values()) {
            all |= ProtocolFlags.noReplyFlag(type);
        }
        assertEquals(ProtocolFlags.NO_REPLY_MASK, all);
    }

    @Test
    void maxDataSizeFollowsTheNegotiatedBits() {
        assertEquals(65535, ProtocolFlags.maxDataSize(ProtocolFlags.ALL));
        assertEquals(262143, ProtocolFlags.maxDataSize(ProtocolFlags.MAX_DATA_SIZE_256K));
        assertEquals(1048575, ProtocolFlags.maxDataSize(ProtocolFlags.MAX_DATA_SIZE_1M));
        assertEquals(1048575,
                ProtocolFlags.maxDataSize(ProtocolFlags.MAX_DATA_SIZE_1M | ProtocolFlags.MAX_DATA_SIZE_256K));
    }
}
