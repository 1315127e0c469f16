package milter.manager.config;

import java.math.BigDecimal;

/** Ruby's {@code String#inspect}, {@code String#dump} and {@code Float#to_s}, as {@code --show-config} prints. */
public final class RubyInspect {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private RubyInspect() {
    }

    /** {@code nil} or the inspected string. */
    public static String inspect(String text) {
        return text == null ? "nil" : quote(text, false);
    }

    /** {@code String#dump}: like inspect, with every non-ASCII character escaped. */
    public static String dump(String text) {
        return text == null ? "nil" : quote(text, true);
    }

    private static String quote(String text, boolean asciiOnly) {
        StringBuilder out = new StringBuilder(text.length() + 2);
        out.append('"');
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int next = i + Character.charCount(c);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                case 0x0B:
                    out.append("\\v");
                    break;
                case 0x08:
                    out.append("\\b");
                    break;
                case 0x07:
                    out.append("\\a");
                    break;
                case 0x1B:
                    out.append("\\e");
                    break;
                case '#':
                    if (next < text.length() && "{$@".indexOf(text.charAt(next)) >= 0) {
                        out.append("\\#");
                    } else {
                        out.append('#');
                    }
                    break;
                default:
                    if (c < 0x20 || c == 0x7F || (c >= 0x80 && (asciiOnly || !printable(c)))) {
                        unicodeEscape(out, c);
                    } else {
                        out.appendCodePoint(c);
                    }
            }
            i = next;
        }
        return out.append('"').toString();
    }

    private static boolean printable(int c) {
        switch (Character.getType(c)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.UNASSIGNED:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
                return false;
            default:
                return true;
        }
    }

    private static void unicodeEscape(StringBuilder out, int c) {
        if (c > 0xFFFF) {
            out.append("\\u{").append(Integer.toHexString(c).toUpperCase()).append('}');
            return;
        }
        out.append("\\u");
        for (int shift = 12; shift >= 0; shift -= 4) {
            out.append(HEX[(c >> shift) & 0xF]);
        }
    }

    /** Ruby's {@code Float#to_s}: {@code 297.0}, {@code 0.5}, {@code 1.0e+16}, {@code 1.0e-05}. */
    public static String floatText(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        if (value == 0) {
            return (1 / value < 0) ? "-0.0" : "0.0";
        }
        String sign = value < 0 ? "-" : "";
        BigDecimal decimal = new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
        String digits = decimal.unscaledValue().toString();
        int point = digits.length() - decimal.scale();
        StringBuilder out = new StringBuilder(sign);
        if (point < -3 || point > 16) {
            out.append(digits.charAt(0)).append('.');
            out.append(digits.length() > 1 ? digits.substring(1) : "0");
            int exponent = point - 1;
            out.append('e').append(exponent < 0 ? '-' : '+');
            int magnitude = Math.abs(exponent);
            if (magnitude < 10) {
                out.append('0');
            }
            out.append(magnitude);
        } else if (point <= 0) {
            out.append("0.");
            out.append("0".repeat(-point));
            out.append(digits);
        } else if (point >= digits.length()) {
            out.append(digits).append("0".repeat(point - digits.length())).append(".0");
        } else {
            out.append(digits, 0, point).append('.').append(digits.substring(point));
        }
        return out.toString();
    }
}
