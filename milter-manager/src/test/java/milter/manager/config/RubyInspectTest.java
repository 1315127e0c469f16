package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jruby.RubyString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SharedLoader.class)
class RubyInspectTest {
    @Test
    void stringsAsRubyInspectsThem() {
        List<String> samples = List.of("", "plain", "with \"quotes\"", "back\\slash", "tab\tnew\nline\r",
                "#{interpolation} #$global #@ivar # hash", "bell\u0007 esc\u001b del\u007f nul\u0000",
                "caf\u00e9 \u65e5\u672c", "form\f vt\u000b bs\b");
        for (String sample : samples) {
            RubyString ruby = RubyString.newString(SharedLoader.loader().runtime().ruby(), sample);
            String expected = ruby.inspect().asJavaString();
            assertEquals(expected, RubyInspect.inspect(sample), sample);
        }
        assertEquals("nil", RubyInspect.inspect(null));
    }

    @Test
    void dumpEscapesNonAscii() {
        assertEquals("\"caf\\u00E9\"", RubyInspect.dump("caf\u00e9"));
        assertEquals("\"S25R\"", RubyInspect.dump("S25R"));
    }

    @Test
    void floatsAsMriPrintsThem() {
        assertEquals("297.0", RubyInspect.floatText(297));
        assertEquals("7.0", RubyInspect.floatText(7));
        assertEquals("0.5", RubyInspect.floatText(0.5));
        assertEquals("2.25", RubyInspect.floatText(2.25));
        assertEquals("0.0001", RubyInspect.floatText(0.0001));
        assertEquals("1.0e-05", RubyInspect.floatText(0.00001));
        assertEquals("1000000000000000.0", RubyInspect.floatText(1e15));
        assertEquals("1.0e+16", RubyInspect.floatText(1e16));
        assertEquals("1.5e+20", RubyInspect.floatText(1.5e20));
        assertEquals("-3.0", RubyInspect.floatText(-3));
        assertEquals("0.0", RubyInspect.floatText(0));
    }

    @Test
    void printedFloatsReadBackExactly() {
        for (double value : new double[] {297.0, 0.1, 1.0 / 3, 123456.789, 1e-7, 4.5e17}) {
            String text = RubyInspect.floatText(value);
            double back = ((org.jruby.RubyFloat) SharedLoader.loader().runtime().eval(text)).getDoubleValue();
            assertEquals(value, back, text);
        }
    }
}
