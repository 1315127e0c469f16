package milter.core.log;

/** Escapes control characters from the wire so one log line stays one line and cannot forge another. */
public final class LogEscaper {
    private LogEscaper() {
    }

    public static String escape(String text) {
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                break;
            }
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length() + 8);
        out.append(text, 0, i);
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7F) {
                        out.append(String.format("\\x%02X", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
