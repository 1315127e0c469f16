package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import milter.core.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** milter-manager.custom.conf in the controller's XML form, applied after milter-manager.conf. */
@ExtendWith(SharedLoader.class)
class CustomConfigurationTest {
    @TempDir
    Path directory;

    @Test
    void xmlSettingsAndMilters() {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n",
                "define_applicable_condition(\"remote-network\") {|condition|}",
                "define_milter(\"child-milter\") do |milter|",
                "  milter.connection_spec = \"unix:/tmp/old\"",
                "  milter.fallback_status = \"reject\"",
                "  milter.description = \"kept\"",
                "end", ""));
        SharedLoader.write(directory, "milter-manager.custom.conf", String.join("\n",
                "<configuration>",
                "  <security>",
                "    <effective-user>milter</effective-user>",
                "  </security>",
                "  <manager>",
                "    <max-connections>12</max-connections>",
                "  </manager>",
                "  <milters>",
                "    <milter>",
                "      <name>child-milter</name>",
                "      <enabled>false</enabled>",
                "      <evaluation-mode>true</evaluation-mode>",
                "      <connection-spec>unix:/tmp/socket</connection-spec>",
                "      <applicable-conditions>",
                "        <applicable-condition>remote-network</applicable-condition>",
                "      </applicable-conditions>",
                "    </milter>",
                "  </milters>",
                "</configuration>", ""));
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        Configuration c = result.configuration();
        assertEquals("milter", c.string(Setting.SECURITY_EFFECTIVE_USER));
        assertEquals(12, c.integer(Setting.MANAGER_MAX_CONNECTIONS));
        assertEquals(directory.resolve("milter-manager.custom.conf") + ":6", c.location("manager.max_connections"));
        Egg egg = c.egg("child-milter");
        assertEquals("unix:/tmp/socket", egg.connectionSpec().toString());
        assertFalse(egg.enabled());
        assertTrue(egg.evaluationMode());
        assertEquals("kept", egg.description());
        assertEquals(Status.ACCEPT, egg.fallbackStatus(), "a redefinition, as upstream");
        assertEquals(List.of("remote-network"), egg.applicableConditions());
    }

    @Test
    void badXmlIsReportedAndTheRubyPartStays() {
        SharedLoader.write(directory, "milter-manager.conf", "manager.n_workers = 2\n");
        SharedLoader.write(directory, "milter-manager.custom.conf", String.join("\n",
                "<configuration>",
                "  <manager>",
                "    <fallback-status>sometimes</fallback-status>",
                "  </manager>",
                "</configuration>", ""));
        LoadResult result = SharedLoader.load(directory);
        assertEquals(1, result.errors().size());
        ConfigurationError error = result.errors().get(0);
        assertEquals(ConfigurationError.Kind.CUSTOM, error.kind());
        assertEquals(3, error.line());
        assertEquals("manager.fallback_status should be one of [accept, temporary-failure, reject, discard] but was"
                + " \"sometimes\"", error.message());
        assertEquals(2, result.configuration().integer(Setting.MANAGER_N_WORKERS));
    }

    @Test
    void nonXmlCustomFileAndDoctypesAreNotUnderstood() {
        SharedLoader.write(directory, "milter-manager.conf", "");
        SharedLoader.write(directory, "milter-manager.custom.conf", "manager.n_workers = 5\n");
        LoadResult ruby = SharedLoader.load(directory);
        assertTrue(ruby.ok());
        assertEquals(0, ruby.configuration().integer(Setting.MANAGER_N_WORKERS), "only XML is read, as upstream");

        SharedLoader.write(directory, "milter-manager.custom.conf", String.join("\n",
                "<!DOCTYPE configuration [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
                "<configuration><security><effective-user>&x;</effective-user></security></configuration>", ""));
        LoadResult doctype = SharedLoader.load(directory);
        assertEquals(1, doctype.errors().size());
        assertEquals(ConfigurationError.Kind.CUSTOM, doctype.errors().get(0).kind());
    }
}
