package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionAndTypesTest {

    @Test
    void offersPerVersion() {
        assertEquals(new Option(6, 0x1FF, 0x1FFFFF), Option.offer(6));
        assertEquals(new Option(2, 0x3F, 0x7F), Option.offer(2));
    }

    @Test
    void optionIsImmutable() {
        List<String> names = new ArrayList<>(List.of("j"));
        Map<MacroStage, List<String>> lists = new EnumMap<>(MacroStage.class);
        lists.put(MacroStage.CONNECT, names);
        Option option = new Option(6, 0, 0, lists);
        names.add("v");
        lists.put(MacroStage.HELO, List.of());
        assertEquals(Map.of(MacroStage.CONNECT, List.of("j")), option.macroRequests());
        assertThrows(UnsupportedOperationException.class, () -> option.macroRequests().clear());
        assertEquals(List.of("j"), option.macroRequest(MacroStage.CONNECT));
        assertNull(option.macroRequest(MacroStage.HELO));
        assertEquals(Map.of(), new Option(6, 0, 0, null).macroRequests());
    }

    @Test
    void optionWithersAndPredicates() {
        Option option = new Option(6, ActionFlags.ADD_HEADERS, ProtocolFlags.SKIP);
        assertTrue(option.allows(ActionFlags.ADD_HEADERS));
        assertFalse(option.allows(ActionFlags.CHANGE_BODY));
        assertTrue(option.has(ProtocolFlags.SKIP));
        assertEquals(new Option(2, 1, 0x400), option.withVersion(2));
        assertEquals(new Option(6, 3, 0x400), option.withActions(3));
        assertEquals(new Option(6, 1, 0), option.withProtocol(0));
        assertEquals("Option[version=6, actions=add-headers, protocol=skip]", option.toString());
    }

    @Test
    void commandLettersMapBothWays() {
        for (CommandType type : CommandType.values()) {
            assertSame(type, CommandType.fromCode(type.code()));
        }
        assertNull(CommandType.fromCode('Z'));
        assertNull(CommandType.fromCode(0xFF));
        assertNull(CommandType.fromCode(-1));
        assertTrue(CommandType.CONNECT.carriesMacros());
        assertTrue(CommandType.BODY.carriesMacros());
        assertFalse(CommandType.ABORT.carriesMacros());
        assertFalse(CommandType.DEFINE_MACRO.carriesMacros());
    }

    @Test
    void replyLettersMapBothWaysAndKnowTheirRole() {
        for (ReplyType type : ReplyType.values()) {
            assertSame(type, ReplyType.fromCode(type.code()));
            assertFalse(type.isFinal() && type.isModification(), type.toString());
            assertEquals(type.isModification(), type.requiredAction() != 0, type.toString());
        }
        assertNull(ReplyType.fromCode('Z'));
        assertTrue(ReplyType.SKIP.isFinal());
        assertFalse(ReplyType.PROGRESS.isFinal());
        assertEquals(ActionFlags.ADD_HEADERS, ReplyType.INSERT_HEADER.requiredAction());
        assertEquals(ActionFlags.CHANGE_HEADERS, ReplyType.CHANGE_HEADER.requiredAction());
        assertEquals(ActionFlags.ADD_ENVELOPE_RECIPIENT_WITH_PARAMETERS,
                ReplyType.ADD_RECIPIENT_WITH_PARAMETERS.requiredAction());
        assertEquals(ActionFlags.CHANGE_BODY, ReplyType.REPLACE_BODY.requiredAction());
    }

    @Test
    void macroStagesFollowTheWireValues() {
        assertEquals(5, MacroStage.END_OF_MESSAGE.value());
        assertEquals(6, MacroStage.END_OF_HEADER.value());
        for (MacroStage stage : MacroStage.values()) {
            assertSame(stage, MacroStage.fromValue(stage.value()));
            assertSame(stage, MacroStage.forCommand(stage.command()));
        }
        assertNull(MacroStage.fromValue(7));
        assertNull(MacroStage.forCommand(CommandType.HEADER));
    }

    @Test
    void recordsCheckTheirInvariants() {
        assertThrows(IllegalArgumentException.class,
                () -> new Command.DefineMacro(CommandType.QUIT, Map.of()));
        assertThrows(IllegalArgumentException.class,
                () -> new Command.Connect("h", SocketFamily.INET, 70000, "192.0.2.1"));
        assertThrows(NullPointerException.class, () -> new Command.Connect("h", SocketFamily.INET, 25, null));
        Command.Connect unknown = new Command.Connect("h", SocketFamily.UNKNOWN, 25, "ignored");
        assertEquals(0, unknown.port());
        assertNull(unknown.address());
        assertTrue(new Reply.ChangeHeader(1, "X", "").isDelete());
        assertSame(SocketFamily.INET6, SocketFamily.fromCode('6'));
        assertNull(SocketFamily.fromCode('X'));
    }
}
