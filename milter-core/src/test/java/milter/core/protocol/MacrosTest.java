package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MacrosTest {

    private static Map<String, String> map(String... namesAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            map.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return map;
    }

    @Test
    void bracesAreNormalisedOnDefineAndLookup() {
        Macros macros = new Macros();
        macros.define(CommandType.CONNECT, map("j", "mx.example.com", "{daemon_name}", "smtpd"));
        assertEquals("mx.example.com", macros.get("j"));
        assertEquals("mx.example.com", macros.get("{j}"));
        assertEquals("smtpd", macros.get("daemon_name"));
        assertEquals("smtpd", macros.get("{daemon_name}"));
        assertEquals(map("j", "mx.example.com", "daemon_name", "smtpd"), macros.stage(CommandType.CONNECT));
    }

    @Test
    void nameFormsOnTheWire() {
        assertEquals("j", Macros.normalize("{j}"));
        assertEquals("daemon_name", Macros.normalize("{daemon_name}"));
        assertEquals("{x", Macros.normalize("{x"));
        assertEquals("i", Macros.wireName("{i}"));
        assertEquals("{mail_addr}", Macros.wireName("mail_addr"));
        assertEquals("{mail_addr}", Macros.wireName("{mail_addr}"));
    }

    @Test
    void lookupSeesOnlyStagesUpToTheCurrentOneAndLaterStagesWin() {
        Macros macros = new Macros();
        macros.define(CommandType.CONNECT, map("x", "connect", "j", "mx"));
        macros.define(CommandType.ENVELOPE_FROM, map("{x}", "mail", "i", "QUEUE1"));
        macros.define(CommandType.END_OF_MESSAGE, map("x", "eom"));
        assertEquals("connect", macros.get("x", CommandType.HELO));
        assertNull(macros.get("i", CommandType.HELO));
        assertEquals("mail", macros.get("x", CommandType.ENVELOPE_RECIPIENT));
        assertEquals("QUEUE1", macros.get("i", CommandType.DATA));
        assertEquals("eom", macros.get("x", CommandType.END_OF_MESSAGE));
        assertEquals("eom", macros.get("x"));
        assertEquals(map("x", "mail", "j", "mx", "i", "QUEUE1"), macros.visible(CommandType.ENVELOPE_FROM));
    }

    @Test
    void defineReplacesAStageAndSetAddsToIt() {
        Macros macros = new Macros();
        macros.define(CommandType.ENVELOPE_RECIPIENT, map("{rcpt_addr}", "a@example.org", "k", "v"));
        macros.define(CommandType.ENVELOPE_RECIPIENT, map("{rcpt_addr}", "b@example.org"));
        assertEquals("b@example.org", macros.get("rcpt_addr"));
        assertNull(macros.get("k"), "the previous recipient's table is gone");
        macros.set(CommandType.ENVELOPE_RECIPIENT, "{rcpt_host}", "example.org");
        assertEquals(map("rcpt_addr", "b@example.org", "rcpt_host", "example.org"),
                macros.stage(CommandType.ENVELOPE_RECIPIENT));
        assertThrows(UnsupportedOperationException.class,
                () -> macros.stage(CommandType.ENVELOPE_RECIPIENT).put("x", "y"));
    }

    @Test
    void clearMessageKeepsConnectionStages() {
        Macros macros = new Macros();
        macros.define(CommandType.CONNECT, map("j", "mx"));
        macros.define(CommandType.HELO, map("{tls_version}", "TLSv1.3"));
        for (CommandType stage : new CommandType[] {CommandType.ENVELOPE_FROM, CommandType.ENVELOPE_RECIPIENT,
                CommandType.DATA, CommandType.HEADER, CommandType.END_OF_HEADER, CommandType.BODY,
                CommandType.END_OF_MESSAGE}) {
            macros.define(stage, map("m_" + stage.code(), "v"));
        }
        macros.clearMessage();
        assertEquals(map("j", "mx", "tls_version", "TLSv1.3"), macros.visible(CommandType.END_OF_MESSAGE));
        assertNull(macros.stage(CommandType.ENVELOPE_FROM));
        assertNull(macros.stage(CommandType.END_OF_MESSAGE));
        macros.clear();
        assertNull(macros.get("j"));
        assertEquals(Map.of(), macros.visible(CommandType.UNKNOWN));
    }

    @Test
    void stagesWithoutMacrosAreRefused() {
        Macros macros = new Macros();
        assertThrows(IllegalArgumentException.class, () -> macros.define(CommandType.ABORT, Map.of("a", "b")));
        assertThrows(IllegalArgumentException.class, () -> macros.define(CommandType.NEGOTIATE, Map.of()));
    }
}
