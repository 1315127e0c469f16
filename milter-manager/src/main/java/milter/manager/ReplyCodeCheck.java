package milter.manager;

import milter.core.protocol.ReplyCodes;

/**
 * Whether a child's reply code may go to the MTA, with upstream's wording for a bad extended status code (the
 * text operators know from {@code [leader][error][reply-code]} lines).
 */
final class ReplyCodeCheck {
    private ReplyCodeCheck() {
    }

    /** Null when {@code reply} is a valid SMTP reply, else why not. */
    static String problem(String reply) {
        try {
            ReplyCodes.validate(reply);
            return null;
        } catch (IllegalArgumentException e) {
            String extended = extendedCodeProblem(reply);
            return extended != null ? extended : e.getMessage();
        }
    }

    /** Upstream's checks of the {@code CLASS.SUBJECT.DETAIL} word after the code, when the word looks like one. */
    static String extendedCodeProblem(String reply) {
        int end = reply.indexOf("\r\n");
        String line = end < 0 ? reply : reply.substring(0, end);
        if (line.length() < 5 || line.charAt(3) != ' ' || !Character.isDigit(line.charAt(4))) {
            return null;
        }
        int space = line.indexOf(' ', 4);
        String word = space < 0 ? line.substring(4) : line.substring(4, space);
        String[] parts = word.split("\\.", -1);
        if (parts.length != 3) {
            return null;
        }
        String klass = parts[0];
        if (klass.isEmpty()) {
            return "class of extended status code is missing: <" + word + ">";
        }
        if (klass.length() > 1) {
            return "class of extended status code should be '2', '4' or '5': <" + word + ">";
        }
        char c = klass.charAt(0);
        if (c != '2' && c != '4' && c != '5') {
            return "class of extended status code should be '2', '4' or '5': <" + word + ">: <" + c + ">";
        }
        String problem = componentProblem("subject", parts[1], word);
        if (problem == null) {
            problem = componentProblem("detail", parts[2], word);
        }
        if (problem == null && c != line.charAt(0)) {
            problem = "extended code should use the same class of status code: <" + line.substring(0, 3) + ">:<"
                    + word + ">";
        }
        return problem;
    }

    private static String componentProblem(String what, String component, String word) {
        if (component.isEmpty()) {
            return what + " of extended status code is missing: <" + word + ">";
        }
        for (int i = 0; i < component.length(); i++) {
            if (i >= 3) {
                return what + " of extended status code should be less than 1000: <"
                        + component.substring(0, Math.min(4, component.length())) + ">: <" + word + ">";
            }
            if (!Character.isDigit(component.charAt(i))) {
                return what + " of extended status code should be digit: <" + word + ">: <" + component.charAt(i)
                        + ">";
            }
        }
        return null;
    }
}
