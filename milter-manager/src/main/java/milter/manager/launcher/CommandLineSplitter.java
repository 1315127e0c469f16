package milter.manager.launcher;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a command line into arguments with the shell's quoting rules, as GLib's {@code g_shell_parse_argv}
 * does for upstream's launcher: blanks separate words; {@code '...'} is literal; inside {@code "..."} a backslash
 * escapes {@code $ ` " \} and a newline; outside quotes a backslash escapes the next character; {@code #} at the
 * start of a word comments out the rest. Nothing is expanded: no variables, globs or command substitution, and
 * no shell runs the result.
 */
public final class CommandLineSplitter {
    private CommandLineSplitter() {
    }

    /**
     * @throws IllegalArgumentException when a quote is not closed, the line ends with a lone backslash, or no
     *                                  word is left
     */
    public static List<String> split(String commandLine) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        int n = commandLine.length();
        for (int i = 0; i < n; i++) {
            char c = commandLine.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n') {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else if (c == '#' && !inWord) {
                while (i < n && commandLine.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '\'') {
                int end = commandLine.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("Text ended before matching quote was found for '.");
                }
                word.append(commandLine, i + 1, end);
                inWord = true;
                i = end;
            } else if (c == '"') {
                i++;
                boolean closed = false;
                for (; i < n; i++) {
                    char d = commandLine.charAt(i);
                    if (d == '"') {
                        closed = true;
                        break;
                    }
                    if (d == '\\' && i + 1 < n && "$`\"\\\n".indexOf(commandLine.charAt(i + 1)) >= 0) {
                        char escaped = commandLine.charAt(++i);
                        if (escaped != '\n') {
                            word.append(escaped);
                        }
                    } else {
                        word.append(d);
                    }
                }
                if (!closed) {
                    throw new IllegalArgumentException("Text ended before matching quote was found for \".");
                }
                inWord = true;
            } else if (c == '\\') {
                if (i + 1 >= n) {
                    throw new IllegalArgumentException("Text ended just after a '\\' character.");
                }
                char escaped = commandLine.charAt(++i);
                if (escaped != '\n') {
                    word.append(escaped);
                    inWord = true;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        if (words.isEmpty()) {
            throw new IllegalArgumentException("Text was empty (or contained only whitespace)");
        }
        return words;
    }

    /** Quotes {@code word} so that {@link #split} gives it back as one argument. */
    public static String quote(String word) {
        if (!word.isEmpty() && word.chars().allMatch(c -> Character.isLetterOrDigit(c) || "-_./=:@%+,".indexOf(c)
                >= 0)) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
