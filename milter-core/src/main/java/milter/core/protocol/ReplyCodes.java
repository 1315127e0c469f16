package milter.core.protocol;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Building and checking the SMTP replies carried by {@code y} packets. */
public final class ReplyCodes {
    private static final Pattern LINE = Pattern.compile("([45][0-9][0-9])(?:([ -])(.*))?", Pattern.DOTALL);
    private static final Pattern EXTENDED = Pattern.compile("([0-9])\\.[0-9]{1,3}\\.[0-9]{1,3}");

    private ReplyCodes() {
    }

    /**
     * Throws {@link IllegalArgumentException} with a clear reason unless {@code reply} is a well-formed 4xx/5xx
     * SMTP reply: every line {@code NNN[ -]...} with the same code, every line but the last continued with
     * {@code -}, an enhanced code (if any) of the same class, no bare CR or LF, no lone {@code %}.
     */
    public static void validate(String reply) {
        if (reply.isEmpty()) {
            throw new IllegalArgumentException("reply code is empty");
        }
        String[] lines = reply.split("\r\n", -1);
        if (lines.length > 32) {
            throw new IllegalArgumentException("reply code has more than 32 lines: " + lines.length);
        }
        String code = null;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            Matcher matcher = LINE.matcher(line);
            if (!matcher.matches()) {
                throw new IllegalArgumentException("reply code should start with 4xx or 5xx: <" + line + ">");
            }
            if (code == null) {
                code = matcher.group(1);
            } else if (!code.equals(matcher.group(1))) {
                throw new IllegalArgumentException("reply code lines disagree: <" + code + "> and <"
                        + matcher.group(1) + ">");
            }
            String separator = matcher.group(2);
            boolean last = i == lines.length - 1;
            if (!last && !"-".equals(separator)) {
                throw new IllegalArgumentException("continued reply line should use '-' after the code: <"
                        + line + ">");
            }
            if (last && "-".equals(separator)) {
                throw new IllegalArgumentException("last reply line should use ' ' after the code: <" + line + ">");
            }
            String rest = matcher.group(3) == null ? "" : matcher.group(3);
            if (rest.indexOf('\r') >= 0 || rest.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("reply code has a bare CR or LF: <" + line + ">");
            }
            checkPercent(rest);
            String first = rest.isEmpty() ? "" : rest.split(" ", 2)[0];
            Matcher extended = EXTENDED.matcher(first);
            if (extended.matches() && extended.group(1).charAt(0) != code.charAt(0)) {
                throw new IllegalArgumentException("class of extended status code should be '"
                        + code.charAt(0) + "': <" + first + ">: <" + extended.group(1) + ">");
            }
        }
    }

    /** A lighter check for received replies: {@code [45]NN} then end, space or {@code -}. */
    public static boolean looksValid(String reply) {
        if (reply.length() < 3 || (reply.charAt(0) != '4' && reply.charAt(0) != '5')) {
            return false;
        }
        if (!Character.isDigit(reply.charAt(1)) || !Character.isDigit(reply.charAt(2))) {
            return false;
        }
        return reply.length() == 3 || reply.charAt(3) == ' ' || reply.charAt(3) == '-';
    }

    /** The three-digit code at the start of a reply, or -1 when it has none. */
    public static int code(String reply) {
        if (reply.length() < 3) {
            return -1;
        }
        try {
            return Integer.parseInt(reply.substring(0, 3));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Formats {@code CODE [EXTENDED] TEXT}; a text with several lines becomes a multi-line reply, each line
     * with the code and extended code. {@code %} in the text is doubled so that MTAs print it literally.
     */
    public static String format(int code, String extendedCode, String text) {
        if (code < 400 || code > 599) {
            throw new IllegalArgumentException("reply code should be 4xx or 5xx: <" + code + ">");
        }
        String[] lines = text == null || text.isEmpty() ? new String[] {""} : text.split("\r?\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                out.append("\r\n");
            }
            out.append(code).append(i == lines.length - 1 ? ' ' : '-');
            if (extendedCode != null && !extendedCode.isEmpty()) {
                out.append(extendedCode);
                if (!lines[i].isEmpty()) {
                    out.append(' ');
                }
            }
            out.append(lines[i].replace("%", "%%"));
        }
        String reply = out.toString().stripTrailing();
        return reply;
    }

    private static void checkPercent(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '%') {
                if (i + 1 < text.length() && text.charAt(i + 1) == '%') {
                    i++;
                } else {
                    throw new IllegalArgumentException("reply code has a lone '%': <" + text + ">");
                }
            }
        }
    }
}
