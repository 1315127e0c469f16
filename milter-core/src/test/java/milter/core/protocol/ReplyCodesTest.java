package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReplyCodesTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "550 5.7.1 Rejected",
        "451 4.7.1 Try later",
        "550",
        "421 closing",
        "550 Rejected without enhanced code",
        "550-5.7.1 line one\r\n550 5.7.1 line two",
        "550-first\r\n550-second\r\n550 last",
        "550 5.7.1 100%% sure",
        "554 5.7.1",
        "451 4.3.0 caf\u00e9 \u00ff",
    })
    void wellFormedRepliesPass(String reply) {
        ReplyCodes.validate(reply);
        assertEquals(reply, Reply.ReplyCode.parse(reply).reply());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "554 3.7.1 wrong class|class of extended status code should be '5'",
        "450 5.7.1 wrong class|class of extended status code should be '4'",
        "250 2.0.0 OK|should start with 4xx or 5xx",
        "5500 too long a code|should start with 4xx or 5xx",
        "55|should start with 4xx or 5xx",
        "550-last line continued|last reply line should use ' '",
        "550 100% sure|lone '%'",
        "550 5.7.1 trailing %|lone '%'",
    })
    void malformedRepliesAreRefusedWithTheReason(String reply, String reason) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ReplyCodes.validate(reply));
        assertTrue(error.getMessage().contains(reason), error.getMessage());
    }

    @Test
    void multiLineRepliesNeedOneCodeAndDashContinuations() {
        assertMessage("550 first\r\n550 second", "continued reply line should use '-'");
        assertMessage("550-5.7.1 first\r\n451 4.7.1 second", "reply code lines disagree");
        assertMessage("550-5.7.1 first\r\n550 4.7.1 second", "class of extended status code");
        assertMessage("", "reply code is empty");
        assertMessage("550 bare\nLF", "bare CR or LF");
        assertMessage("550 bare\rCR", "bare CR or LF");
        assertMessage("550-x\r\n".repeat(32) + "550 x", "more than 32 lines");
        ReplyCodes.validate("550-x\r\n".repeat(31) + "550 x");
    }

    private static void assertMessage(String reply, String reason) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ReplyCodes.validate(reply));
        assertTrue(error.getMessage().contains(reason), error.getMessage());
    }

    @Test
    void receivedRepliesGetTheLighterCheck() {
        assertTrue(ReplyCodes.looksValid("550"));
        assertTrue(ReplyCodes.looksValid("421-x"));
        assertTrue(ReplyCodes.looksValid("550 100% sure"));
        assertTrue(ReplyCodes.looksValid("554 3.7.1 class mismatch passes on receipt"));
        assertFalse(ReplyCodes.looksValid("250 OK"));
        assertFalse(ReplyCodes.looksValid("55"));
        assertFalse(ReplyCodes.looksValid("5x0 x"));
        assertFalse(ReplyCodes.looksValid("550x"));
        assertFalse(ReplyCodes.looksValid(""));
    }

    @Test
    void codeIsTheLeadingNumber() {
        assertEquals(550, ReplyCodes.code("550 5.7.1 x"));
        assertEquals(421, ReplyCodes.code("421"));
        assertEquals(-1, ReplyCodes.code("ab"));
        assertEquals(-1, ReplyCodes.code("abc def"));
    }

    @Test
    void formatBuildsValidRepliesAndDoublesPercent() {
        assertEquals("550 5.7.1 Rejected", ReplyCodes.format(550, "5.7.1", "Rejected"));
        assertEquals("451 Try later", ReplyCodes.format(451, null, "Try later"));
        assertEquals("550 5.7.1", ReplyCodes.format(550, "5.7.1", null));
        assertEquals("550", ReplyCodes.format(550, null, ""));
        assertEquals("550 5.7.1 100%% sure", ReplyCodes.format(550, "5.7.1", "100% sure"));
        assertEquals("550 5.7.1 already %% doubled becomes %%%%",
                ReplyCodes.format(550, "5.7.1", "already % doubled becomes %%"));
        String multi = ReplyCodes.format(550, "5.7.1", "line one\nline two\r\nline three");
        assertEquals("550-5.7.1 line one\r\n550-5.7.1 line two\r\n550 5.7.1 line three", multi);
        ReplyCodes.validate(multi);
        assertThrows(IllegalArgumentException.class, () -> ReplyCodes.format(250, null, "OK"));
        assertThrows(IllegalArgumentException.class, () -> ReplyCodes.format(600, null, "x"));
    }

    @Test
    void replyCodeRecordKnowsItsStatus() {
        Reply.ReplyCode reject = Reply.ReplyCode.of(550, "5.7.1", "Rejected");
        assertEquals(550, reject.code());
        assertSame(Status.REJECT, reject.status());
        Reply.ReplyCode tempfail = Reply.ReplyCode.of(451, "4.7.1", "Try later");
        assertEquals("451 4.7.1 Try later", tempfail.reply());
        assertSame(Status.TEMPORARY_FAILURE, tempfail.status());
        assertThrows(IllegalArgumentException.class, () -> Reply.ReplyCode.of(550, "4.7.1", "x"));
        assertThrows(IllegalArgumentException.class, () -> Reply.ReplyCode.parse("554 3.7.1 x"));
    }
}
