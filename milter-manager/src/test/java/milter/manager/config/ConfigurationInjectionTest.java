package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.TestStopperContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Only the configuration file itself is Ruby. Values that carry Ruby syntax ({@code #{...}} interpolation,
 * backticks) stay text wherever they travel: written in single quotes in milter-manager.conf, as XML text in
 * milter-manager.custom.conf, through {@code --show-config}'s dump loaded back as a configuration, and as wire
 * data (a HELO name, a macro value) handed to a stopper. Each payload would create a marker file if it were ever
 * evaluated; none may exist at the end, and every value must arrive unchanged.
 */
@ExtendWith(SharedLoader.class)
class ConfigurationInjectionTest {
    @TempDir
    Path directory;

    @Test
    void valuesWithRubySyntaxAreNeverEvaluated() throws Exception {
        Path interpolated = directory.resolve("interpolated");
        Path backticked = directory.resolve("backticked");
        Path fromXml = directory.resolve("from-xml");
        Path fromWire = directory.resolve("from-wire");
        String payload = "#{File.write(\"" + interpolated + "\", \"x\")}`touch " + backticked + "`";
        String wirePayload = "mx#{File.write(\"" + fromWire + "\", \"x\")}`touch " + fromWire + "`";
        String name = "evil" + payload;
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n",
                "define_applicable_condition('Trap') do |condition|",
                "  condition.description = '" + payload + "'",
                "  condition.define_helo_stopper do |context, helo|",
                "    helo == '" + wirePayload + "'",
                "  end",
                "  condition.define_envelope_from_stopper do |context, from|",
                "    context['{client_name}'] == '" + wirePayload + "'",
                "  end",
                "end",
                "define_milter('" + name + "') do |milter|",
                "  milter.connection_spec = 'unix:/tmp/" + payload + ".sock'",
                "  milter.description = '" + payload + "'",
                "  milter.applicable_conditions = ['Trap']",
                "end", ""));
        String xmlName = "xml#{File.write(\"" + fromXml + "\", \"x\")}`touch " + fromXml + "`";
        SharedLoader.write(directory, "milter-manager.custom.conf", String.join("\n",
                "<configuration>",
                "  <milters>",
                "    <milter>",
                "      <name>" + xmlName + "</name>",
                "      <connection-spec>inet:10025@[127.0.0.1]</connection-spec>",
                "    </milter>",
                "  </milters>",
                "</configuration>", ""));

        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        Configuration configuration = result.configuration();
        Egg egg = configuration.egg(name);
        assertNotNull(egg, "the milter keeps its literal name");
        assertEquals(payload, egg.description());
        assertEquals("unix:/tmp/" + payload + ".sock", egg.connectionSpec().toString());
        assertEquals(List.of("Trap"), egg.applicableConditions());
        assertNotNull(configuration.egg(xmlName), "the XML milter keeps its literal name");

        ApplicableCondition trap = configuration.condition("Trap");
        assertEquals(payload, trap.description());
        TestStopperContext context = new TestStopperContext(name);
        assertTrue(trap.stopOnHelo(context, wirePayload), "the stopper sees the HELO name as sent");
        assertFalse(trap.stopOnHelo(context, "mx"));
        context.macro("{client_name}", wirePayload);
        assertTrue(trap.stopOnEnvelopeFrom(context, "<a@example.org>"), "the stopper sees the macro as sent");

        // --show-config's dump is Ruby: loading it back must give the same text, still not evaluated.
        String dump = ConfigurationDumper.dump(configuration);
        SharedLoader.write(directory, "dumped/milter-manager.conf", dump);
        LoadResult again = SharedLoader.load(directory.resolve("dumped"));
        assertTrue(again.ok(), again.errors().toString());
        assertEquals(payload, again.configuration().egg(name).description());
        assertNotNull(again.configuration().egg(xmlName));
        assertEquals(payload, again.configuration().condition("Trap").description());

        for (Path marker : List.of(interpolated, backticked, fromXml, fromWire)) {
            assertFalse(Files.exists(marker), () -> "evaluated: " + marker);
        }
    }
}
