package milter.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import milter.core.net.ConnectionSpec;
import milter.manager.config.LoadRequest;
import milter.manager.config.Setting;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** --log-format and --metrics-spec: checked before anything starts, and carried as overrides of their keys. */
class OperationsOptionsTest {

    private static String run(String... args) {
        StringWriter text = new StringWriter();
        int status = Main.run(args, new PrintWriter(text, true));
        return status + " " + text;
    }

    @Test
    void badValuesStopAtOnceWithTheReason() {
        assertEquals("1 log format should be one of [text, json] but was <yaml>\n", run("--log-format=yaml"));
        String spec = run("--metrics-spec=tcp:9125");
        assertTrue(spec.startsWith("1 invalid connection spec: <tcp:9125>"), spec);
    }

    @Test
    void valuesBecomeOverridesOfTheirKeys() {
        Main main = new Main(new PrintWriter(new StringWriter()));
        new CommandLine(main).parseArgs("--log-format=JSON", "--metrics-spec=inet:9125@[127.0.0.1]");
        LoadRequest request = main.loadRequest();
        assertEquals("json", request.overrides().get(Setting.LOG_FORMAT));
        assertEquals(ConnectionSpec.parse("inet:9125@[127.0.0.1]"), request.overrides().get(
                Setting.MANAGER_METRICS_SPEC));
    }
}
