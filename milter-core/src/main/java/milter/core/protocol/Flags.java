package milter.core.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders and parses flag words as upstream's pipe-joined nicks ({@code add-headers|change-body}). */
final class Flags {
    private Flags() {
    }

    static String render(int word, int[] bits, String[] nicks) {
        if (word == 0) {
            return "none";
        }
        StringBuilder out = new StringBuilder();
        int rest = word;
        for (int i = 0; i < bits.length; i++) {
            if ((word & bits[i]) != 0) {
                if (out.length() > 0) {
                    out.append('|');
                }
                out.append(nicks[i]);
                rest &= ~bits[i];
            }
        }
        if (rest != 0) {
            if (out.length() > 0) {
                out.append('|');
            }
            out.append(String.format(Locale.ROOT, "0x%x", rest));
        }
        return out.toString();
    }

    static int parse(String text, int[] bits, String[] nicks, String what) {
        int word = 0;
        for (String part : text.split("\\|")) {
            String nick = part.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            if (nick.isEmpty() || nick.equals("none")) {
                continue;
            }
            if (nick.equals("all")) {
                for (int bit : bits) {
                    word |= bit;
                }
                continue;
            }
            if (nick.startsWith("0x")) {
                // toString renders bits without a nick in hex; accept that form back.
                word |= parseHex(part.trim(), what);
                continue;
            }
            int found = -1;
            for (int i = 0; i < nicks.length; i++) {
                if (nicks[i].equals(nick)) {
                    found = i;
                    break;
                }
            }
            if (found < 0) {
                throw new IllegalArgumentException("unknown " + what + ": <" + part.trim() + ">");
            }
            word |= bits[found];
        }
        return word;
    }

    private static int parseHex(String text, String what) {
        long value;
        try {
            value = Long.parseLong(text.substring(2), 16);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unknown " + what + ": <" + text + ">", e);
        }
        if (value < 0 || value > 0xFFFFFFFFL) {
            throw new IllegalArgumentException(what + " out of 32 bits: <" + text + ">");
        }
        return (int) value;
    }

    static List<String> names(int word, int[] bits, String[] nicks) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < bits.length; i++) {
            if ((word & bits[i]) != 0) {
                names.add(nicks[i]);
            }
        }
        return names;
    }
}
