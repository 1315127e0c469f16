package milter.manager.perf;

import java.util.Locale;

/** Number formats of the reports. */
final class Formats {
    private Formats() {
    }

    /** A plain number: no exponent, at most {@code decimals} decimals, no trailing zeros. */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "–";
        }
        String text = String.format(Locale.ROOT, "%.3f", value);
        text = text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
        return text;
    }

    static String fixed(double value, int decimals) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return "–";
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    /** Thousands separated by a thin space, as the rest of the document writes them. */
    static String integer(long value) {
        String digits = Long.toString(Math.abs(value));
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < digits.length(); i++) {
            if (i > 0 && (digits.length() - i) % 3 == 0) {
                out.append(' ');
            }
            out.append(digits.charAt(i));
        }
        return (value < 0 ? "-" : "") + out;
    }

    static String megabytes(long bytes) {
        return bytes < 0 ? "–" : Long.toString(Math.round(bytes / (1024.0 * 1024.0)));
    }
}
