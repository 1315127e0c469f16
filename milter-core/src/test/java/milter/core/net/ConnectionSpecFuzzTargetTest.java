package milter.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzz target for {@link ConnectionSpec#parse}: any text either parses, and then its canonical
 * form parses back to the same spec, or is refused with an {@link IllegalArgumentException} whose message quotes
 * the spec (an empty one is said to be empty). Nothing is resolved: a spec is only text until it is used.
 * Seeds: {@code src/test/resources/milter/core/net/ConnectionSpecFuzzTargetTestInputs/parse}.
 */
class ConnectionSpecFuzzTargetTest {

    /** The input is the spec's text in UTF-8, as a configuration file or a command line hands it over. */
    @FuzzTest(maxDuration = "10s")
    void parse(byte[] input) {
        String text = new String(input, StandardCharsets.UTF_8);
        ConnectionSpec spec;
        try {
            spec = ConnectionSpec.parse(text);
        } catch (IllegalArgumentException e) {
            String message = String.valueOf(e.getMessage());
            if (text.isBlank()) {
                assertEquals("connection spec is empty", message);
            } else {
                assertTrue(message.contains("<" + text + ">"), () -> "refusal does not name the spec <" + text
                        + ">: " + message);
            }
            return;
        } catch (RuntimeException e) {
            throw new AssertionError("<" + text + "> made parse throw " + e, e);
        }
        String canonical = spec.toString();
        ConnectionSpec again;
        try {
            again = ConnectionSpec.parse(canonical);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("<" + text + "> parsed to <" + canonical + ">, which does not parse: "
                    + e.getMessage(), e);
        }
        assertEquals(spec, again, () -> "<" + text + "> -> <" + canonical + ">");
        assertEquals(canonical, again.toString(), () -> "<" + text + ">");
        if (spec instanceof ConnectionSpec.Inet inet) {
            assertTrue(inet.port() >= 0 && inet.port() <= 65535, canonical);
            assertTrue(inet.host() == null || !inet.host().isEmpty(), canonical);
        }
    }
}
