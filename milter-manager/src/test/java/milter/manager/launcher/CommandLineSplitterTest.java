package milter.manager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CommandLineSplitterTest {

    @Test
    void blanksSeparateWords() {
        assertEquals(List.of("/usr/sbin/service", "milter-greylist", "start"),
                CommandLineSplitter.split("  /usr/sbin/service\tmilter-greylist   start "));
    }

    @Test
    void quotesAndBackslashesFollowTheShell() {
        assertEquals(List.of("a b", "c'd", "e\"f$g", "h i", "j\\k"),
                CommandLineSplitter.split("'a b' \"c'd\" \"e\\\"f\\$g\" h\\ i 'j\\k'"));
        assertEquals(List.of("--add-header", "X-A:from a"), CommandLineSplitter.split("--add-header 'X-A:from a'"));
    }

    @Test
    void nothingIsExpandedAndCommentsAreDropped() {
        assertEquals(List.of("echo", "$HOME", "*", "`id`", ";", "x#y"),
                CommandLineSplitter.split("echo $HOME * `id` ; x#y # a comment"));
    }

    @Test
    void brokenLinesAreRefused() {
        assertEquals("Text ended before matching quote was found for '.",
                assertThrows(IllegalArgumentException.class, () -> CommandLineSplitter.split("a 'b")).getMessage());
        assertEquals("Text ended before matching quote was found for \".",
                assertThrows(IllegalArgumentException.class, () -> CommandLineSplitter.split("a \"b")).getMessage());
        assertEquals("Text ended just after a '\\' character.",
                assertThrows(IllegalArgumentException.class, () -> CommandLineSplitter.split("a \\")).getMessage());
        assertEquals("Text was empty (or contained only whitespace)",
                assertThrows(IllegalArgumentException.class, () -> CommandLineSplitter.split("  # only")).getMessage());
    }

    @Test
    void quotedWordsSplitBackToThemselves() {
        for (String word : List.of("plain", "with space", "it's", "", "a\"b", "$x")) {
            assertEquals(List.of("x", word), CommandLineSplitter.split("x " + CommandLineSplitter.quote(word)));
        }
    }
}
