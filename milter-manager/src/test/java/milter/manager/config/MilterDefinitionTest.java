package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** define_milter, its redefinition rules (behaviour spec §5.3), remove_milter, defined_milters, conditions. */
@ExtendWith(SharedLoader.class)
class MilterDefinitionTest {
    @TempDir
    Path directory;

    private Configuration load(String... lines) {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n", lines) + "\n");
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        return result.configuration();
    }

    private String at(int line) {
        return directory.resolve("milter-manager.conf") + ":" + line;
    }

    @Test
    void everyMilterKey() {
        Configuration c = load(
                "define_applicable_condition(\"A\") {|condition|}",
                "define_milter(:clamav) do |milter|",
                "  milter.connection_spec = \"inet:3310@localhost\"",
                "  milter.description = \"antivirus\"",
                "  milter.enabled = false",
                "  milter.fallback_status = :Temporary_Failure",
                "  milter.evaluation_mode = \"true\"",
                "  milter.applicable_conditions = [\"A\"]",
                "  milter.command = \"/usr/sbin/clamav-milter\"",
                "  milter.command_options = \"--config /etc/clamav.conf\"",
                "  milter.user_name = \"clamav\"",
                "  milter.connection_timeout = 10",
                "  milter.writing_timeout = 1.5",
                "  milter.reading_timeout = \"2.5\"",
                "  milter.end_of_message_timeout = 100",
                "  raise \"name\" unless milter.name == \"clamav\"",
                "  raise \"enabled?\" if milter.enabled?",
                "  raise \"status\" unless milter.fallback_status == \"temporary-failure\"",
                "  raise \"timeout\" unless milter.writing_timeout == 1.5",
                "  raise \"conditions\" unless milter.applicable_conditions.collect(&:name) == [\"A\"]",
                "end");
        Egg egg = c.egg("clamav");
        assertEquals(ConnectionSpec.parse("inet:3310@localhost"), egg.connectionSpec());
        assertEquals("antivirus", egg.description());
        assertFalse(egg.enabled());
        assertEquals(Status.TEMPORARY_FAILURE, egg.fallbackStatus());
        assertTrue(egg.evaluationMode());
        assertEquals(List.of("A"), egg.applicableConditions());
        assertEquals("/usr/sbin/clamav-milter", egg.command());
        assertEquals("--config /etc/clamav.conf", egg.commandOptions());
        assertEquals("clamav", egg.userName());
        assertEquals(10.0, egg.connectionTimeout());
        assertEquals(1.5, egg.writingTimeout());
        assertEquals(2.5, egg.readingTimeout());
        assertEquals(100.0, egg.endOfMessageTimeout());
        assertEquals(at(2), c.location("milter[clamav]"));
        assertEquals(at(3), c.location("milter[clamav].connection_spec"));
        assertEquals(at(15), c.location("milter[clamav].end_of_message_timeout"));
        assertNull(c.location("milter[clamav].applicable_condition[A]"), "only add_applicable_condition records");
    }

    @Test
    void commandOptionsArrayIsShellEscaped() {
        Configuration c = load(
                "define_milter(\"m\") do |milter|",
                "  milter.command = \"milter-test-client\"",
                "  milter.command_options = [\"--connection-spec=inet:20001\", \"--n-workers 4\", \"it's\"]",
                "end");
        assertEquals("--connection-spec\\=inet:20001 --n-workers\\ 4 it\\'s", c.egg("m").commandOptions());
    }

    @Test
    void redefinitionKeepsSomeFieldsResetsOthersAndMovesLast() {
        Configuration c = load(
                "define_applicable_condition(\"A\") {|condition|}",
                "define_milter(\"first\") do |milter|",
                "  milter.connection_spec = \"unix:/run/first.sock\"",
                "  milter.description = \"description\"",
                "  milter.enabled = false",
                "  milter.fallback_status = \"reject\"",
                "  milter.evaluation_mode = true",
                "  milter.add_applicable_condition(\"A\")",
                "  milter.command = \"/bin/first\"",
                "  milter.command_options = \"-d\"",
                "  milter.user_name = \"nobody\"",
                "  milter.reading_timeout = 3",
                "end",
                "define_milter(\"second\") do |milter|",
                "  milter.connection_spec = \"unix:/run/second.sock\"",
                "end",
                "define_milter(\"first\") do |milter|",
                "end");
        assertEquals(List.of("second", "first"), c.eggs().stream().map(Egg::name).toList());
        Egg first = c.egg("first");
        assertEquals("unix:/run/first.sock", first.connectionSpec().toString());
        assertEquals("description", first.description());
        assertFalse(first.enabled());
        assertEquals(List.of("A"), first.applicableConditions());
        assertEquals("/bin/first", first.command());
        assertEquals("-d", first.commandOptions());
        assertEquals("nobody", first.userName());
        assertEquals(3.0, first.readingTimeout());
        assertEquals(Status.ACCEPT, first.fallbackStatus(), "reset by the redefinition (upstream)");
        assertFalse(first.evaluationMode(), "reset by the redefinition (upstream)");
        assertNull(c.location("milter[first].fallback_status"), "a reset value shows as default");
        assertEquals(at(4), c.location("milter[first].description"));
        assertEquals(at(17), c.location("milter[first]"));
    }

    @Test
    void definedMiltersRemoveMilterAndRewriting() {
        Configuration c = load(
                "define_milter(\"a\") {|milter| milter.description = \"one\"}",
                "define_milter(\"b\") {|milter| milter.description = \"two\"}",
                "define_milter(\"c\") {|milter| milter.description = \"three\"}",
                "remove_milter(\"b\")",
                "raise defined_milters.inspect unless defined_milters == [\"a\", \"c\"]",
                "defined_milters.each do |name|",
                "  define_milter(name) {|milter| milter.description = \"rewrite - #{milter.description}\"}",
                "end");
        assertEquals(List.of("a", "c"), c.eggs().stream().map(Egg::name).toList());
        assertEquals("rewrite - one", c.egg("a").description());
        assertEquals("rewrite - three", c.egg("c").description());
        assertTrue(c.locations().keySet().stream().noneMatch(key -> key.startsWith("milter[b]")));
    }

    @Test
    void conditionListOperations() {
        Configuration c = load(
                "define_applicable_condition(\"S25R\") {|condition|}",
                "define_applicable_condition(\"Remote Network\") {|condition|}",
                "define_milter(\"m1\") do |milter|",
                "  milter.applicable_conditions = [\"S25R\"]",
                "  milter.applicable_conditions += [\"Remote Network\"]",
                "end",
                "define_milter(\"m2\") do |milter|",
                "  milter.applicable_conditions = [\"S25R\", \"Remote Network\"]",
                "  milter.applicable_conditions = [\"S25R\"]",
                "end",
                "define_milter(\"m3\") do |milter|",
                "  milter.add_applicable_condition(\"S25R\")",
                "  milter.add_applicable_condition(configuration.find_applicable_condition(\"Remote Network\"))",
                "  milter.applicable_conditions = nil",
                "  milter.add_applicable_condition(\"Remote Network\")",
                "end");
        assertEquals(List.of("S25R", "Remote Network"), c.egg("m1").applicableConditions());
        assertEquals(List.of("S25R"), c.egg("m2").applicableConditions());
        assertEquals(List.of("Remote Network"), c.egg("m3").applicableConditions());
        assertNull(c.location("milter[m3].applicable_condition[S25R]"), "replaced lists forget locations");
        assertEquals(at(15), c.location("milter[m3].applicable_condition[Remote Network]"));
    }

    @Test
    void configurationObjectSeesMilters() {
        Configuration c = load(
                "define_milter(\"m\") do |milter|",
                "  milter.connection_spec = \"inet:1@[127.0.0.1]\"",
                "end",
                "egg = configuration.find_egg(\"m\")",
                "raise \"spec\" unless egg.connection_spec == \"inet:1@[127.0.0.1]\"",
                "raise \"enabled\" unless egg.enabled?",
                "raise \"eggs\" unless configuration.eggs.collect(&:name) == [\"m\"]",
                "configuration.remove_egg(\"m\")");
        assertTrue(c.eggs().isEmpty());
    }
}
