package milter.server.tool;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Text forms shared by the tool's output. */
final class Formats {
    private static final Pattern REPLY = Pattern.compile("([0-9]{3})[ -]?(?:([0-9]\\.[0-9]{1,3}\\.[0-9]{1,3})(?: |$))?(.*)",
            Pattern.DOTALL);

    private Formats() {
    }

    /** C's {@code %g}: six significant digits, no trailing zeros, exponent form below 1e-4 or from 1e6. */
    static String g(double value) {
        if (value == 0) {
            return "0";
        }
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return Double.toString(value);
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(6, RoundingMode.HALF_EVEN));
        int exponent = rounded.precision() - rounded.scale() - 1;
        if (exponent < -4 || exponent >= 6) {
            BigDecimal mantissa = rounded.movePointLeft(exponent).stripTrailingZeros();
            String sign = exponent < 0 ? "-" : "+";
            int abs = Math.abs(exponent);
            return mantissa.toPlainString() + "e" + sign + (abs < 10 ? "0" : "") + abs;
        }
        return rounded.stripTrailingZeros().toPlainString();
    }

    /** {@code [CODE]<EXTENDED>(TEXT)} as upstream prints a reply code; {@code (null)} for a missing part. */
    static String replyCode(String reply) {
        Matcher matcher = REPLY.matcher(reply);
        if (!matcher.matches()) {
            return "[0]<(null)>(" + reply + ")";
        }
        String extended = matcher.group(2) == null ? "(null)" : matcher.group(2);
        String text = matcher.group(3).isEmpty() ? "(null)" : matcher.group(3);
        return "[" + Integer.parseInt(matcher.group(1)) + "]<" + extended + ">(" + text + ")";
    }
}
