package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedLoader.class)
class ConfigurationDumperTest {
    @TempDir
    Path directory;

    @Test
    void defaultsAsUpstreamPrintsThem() throws Exception {
        String expected = Files.readString(SharedLoader.resource("defaults.expected"))
                .replace("@PLATFORM@", RubyInspect.inspect((String) Setting.PACKAGE_PLATFORM.defaultValue()))
                .replace("@SPEC@", RubyInspect.inspect(
                        Setting.MANAGER_CONNECTION_SPEC.convert(Setting.MANAGER_CONNECTION_SPEC.defaultValue())
                                .toString()));
        assertEquals(expected, ConfigurationDumper.dump(Configuration.defaults()));
    }

    /** The example of the behaviour spec (§5.5): stock layout, Debian, a local file with two milters. */
    @Test
    void showConfigOfTheStockLayout() throws Exception {
        Path tree = SharedLoader.resource("show-config");
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder()
                .loadPath(tree).loadPath(SharedLoader.shippedConf()).platform("debian").build());
        assertTrue(result.ok(), result.errors().toString());
        String dump = ConfigurationDumper.dump(result.configuration())
                .replace(tree + "/", "@TREE@/")
                .replace(SharedLoader.shippedConf() + "/", "@CONF@/")
                .replaceAll("(@CONF@/[^\\n:]+):\\d+", "$1:N");
        String expected = Files.readString(SharedLoader.resource("show-config.expected"))
                .replaceAll("(@CONF@/[^\\n:]+):\\d+", "$1:N");
        assertEquals(expected, dump);
    }

    @Test
    void dumpLoadsBackToTheSameConfiguration() throws Exception {
        SharedLoader.write(directory, "original/milter-manager.conf", String.join("\n",
                "package.options = \"prefix=/opt/mm,detector=off\"",
                "security.effective_user = \"milter\"",
                "log.level = \"error|warning|statistics\"",
                "log.path = \"/var/log/milter-manager.log\"",
                "log.use_syslog = false",
                "log.syslog_facility = \"local4\"",
                "manager.connection_spec = \"inet6:10025@[::1]\"",
                "manager.unix_socket_mode = 0600",
                "manager.daemon = true",
                "manager.maintenance_interval = nil",
                "manager.max_connections = 64",
                "manager.fallback_status = :REJECT",
                "manager.fallback_status_at_disconnect = \"discard\"",
                "manager.event_loop_backend = \"libev\"",
                "manager.n_workers = 4",
                "manager.chunk_size = 4096",
                "controller.connection_spec = \"unix:/tmp/controller.sock\"",
                "controller.unix_socket_mode = 0640",
                "database.type = \"sqlite3\"",
                "database.port = 3306",
                "define_applicable_condition(\"Odd \\\"name\\\" \\u00e9\") do |condition|",
                "  condition.description = \"quotes \\\" and \\#{not interpolated}\\n\\ttab\"",
                "  condition.define_helo_stopper {|context, helo| helo == \"x\"}",
                "end",
                "define_applicable_condition(\"Plain\") do |condition|",
                "end",
                "define_milter(\"one\") do |milter|",
                "  milter.connection_spec = \"unix:/run/one.sock\"",
                "  milter.description = \"first\"",
                "  milter.enabled = false",
                "  milter.fallback_status = \"temporary_failure\"",
                "  milter.evaluation_mode = true",
                "  milter.applicable_conditions = [\"Odd \\\"name\\\" \\u00e9\", \"Plain\"]",
                "  milter.command = \"/usr/sbin/one\"",
                "  milter.command_options = [\"--socket\", \"/run/one sock\"]",
                "  milter.user_name = \"nobody\"",
                "  milter.connection_timeout = 0.5",
                "  milter.writing_timeout = 12",
                "  milter.reading_timeout = 1.0e-05",
                "  milter.end_of_message_timeout = 600.25",
                "end",
                "define_milter(\"two\") do |milter|",
                "  milter.connection_spec = \"inet:2525@localhost\"",
                "end",
                ""));
        LoadResult original = SharedLoader.loader().load(LoadRequest.builder()
                .loadPath(directory.resolve("original")).platform("redhat").build());
        assertTrue(original.ok(), original.errors().toString());
        String dump = ConfigurationDumper.dump(original.configuration());
        SharedLoader.write(directory, "dumped/milter-manager.conf", dump);
        LoadResult reloaded = SharedLoader.loader().load(LoadRequest.builder()
                .loadPath(directory.resolve("dumped")).platform("redhat").build());
        assertTrue(reloaded.ok(), reloaded.errors().toString());

        Configuration a = original.configuration();
        Configuration b = reloaded.configuration();
        for (Setting setting : Setting.values()) {
            assertEquals(a.get(setting), b.get(setting), setting.key());
        }
        assertEquals(a.eggs(), b.eggs());
        assertEquals(describe(a), describe(b));
        assertEquals(withoutLocations(dump), withoutLocations(ConfigurationDumper.dump(b)));
        assertEquals(Status.REJECT, b.fallbackStatus());
        assertEquals("--socket /run/one\\ sock", b.egg("one").commandOptions());
    }

    private static List<String> describe(Configuration configuration) {
        return configuration.conditions().values().stream()
                .map(condition -> condition.name() + " / " + condition.description()).toList();
    }

    private static String withoutLocations(String dump) {
        return dump.lines().filter(line -> !line.trim().startsWith("# ")).collect(Collectors.joining("\n"));
    }

    @Test
    void conditionOrderAndEggsOrderFollowDefinitions() {
        ApplicableCondition first = named("B", null);
        ApplicableCondition second = named("A", "second");
        Configuration configuration = Configuration.builder()
                .condition(first).condition(second)
                .egg(Egg.of("z", null)).egg(Egg.of("y", null))
                .build();
        String dump = ConfigurationDumper.dump(configuration);
        assertTrue(dump.indexOf("define_applicable_condition(\"B\")") < dump.indexOf("define_applicable_condition(\"A\")"));
        assertTrue(dump.indexOf("define_milter(\"z\")") < dump.indexOf("define_milter(\"y\")"));
        assertTrue(dump.contains("  condition.description = nil\n"));
        assertTrue(dump.contains("  milter.connection_spec = nil\n"));
        assertTrue(dump.endsWith("end\n"));
    }

    private static ApplicableCondition named(String name, String description) {
        return new ApplicableCondition() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public boolean hasStopper(milter.core.protocol.CommandType stage) {
                return false;
            }
        };
    }
}
