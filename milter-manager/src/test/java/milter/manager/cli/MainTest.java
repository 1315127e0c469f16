package milter.manager.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import milter.manager.MainRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line without starting a daemon: version, bad options, --show-config, --check-config, -c FILE. */
class MainTest {
    @TempDir
    Path directory;

    private record Result(int status, String output) {
    }

    private static Result run(String... args) {
        StringWriter text = new StringWriter();
        int status = MainRunner.run(args, new PrintWriter(text, true));
        return new Result(status, text.toString());
    }

    @Test
    void versionPrintsTheNameAndVersion() {
        Result result = run("--version");
        assertEquals(0, result.status());
        assertTrue(result.output().matches("milter-manager \\d+\\.\\d+\\.\\d+\\s*"), result.output());
    }

    @Test
    void unknownOptionExitsOneWithTheHelp() {
        Result result = run("--no-such-option");
        assertEquals(1, result.status());
        assertTrue(result.output().contains("--no-such-option"), result.output());
        assertTrue(result.output().contains("--config-dir"), result.output());
    }

    @Test
    void badValuesExitOne() {
        assertEquals(1, run("--n-workers=1001").status());
        assertEquals(1, run("--event-loop-backend=poll").status());
        Result spec = run("-s", "tcp:25");
        assertEquals(1, spec.status());
        assertTrue(spec.output().contains("tcp:25"), spec.output());
        assertEquals(1, run("--log-level=loud").status());
    }

    @Test
    void showConfigPrintsTheLoadedConfigurationWithCommandLineOverrides() throws Exception {
        Files.writeString(directory.resolve("milter-manager.conf"), ""
                + "define_milter(\"child\") do |milter|\n"
                + "  milter.connection_spec = \"inet:3310@[127.0.0.1]\"\n"
                + "  milter.fallback_status = \"temporary-failure\"\n"
                + "end\n");
        Result result = run("-c", directory.toString(), "--show-config", "--pid-file=/run/mm.pid",
                "-s", "inet:10026@[127.0.0.1]");
        assertEquals(0, result.status(), result.output());
        assertTrue(result.output().contains("manager.connection_spec = \"inet:10026@[127.0.0.1]\""),
                result.output());
        assertTrue(result.output().contains("manager.pid_file = \"/run/mm.pid\""), result.output());
        assertTrue(result.output().contains("define_milter(\"child\") do |milter|"), result.output());
        assertTrue(result.output().contains("  milter.fallback_status = \"temporary-failure\""), result.output());
    }

    @Test
    void configDirMayNameTheFileItself() throws Exception {
        Path file = directory.resolve("site.conf");
        Files.writeString(file, "manager.fallback_status = \"reject\"\n");
        Result result = run("-c", file.toString(), "--show-config");
        assertEquals(0, result.status(), result.output());
        assertTrue(result.output().contains("manager.fallback_status = \"reject\""), result.output());
    }

    @Test
    void checkConfigSaysCleanOrListsTheErrors() throws Exception {
        Files.writeString(directory.resolve("milter-manager.conf"), "manager.fallback_status = \"accept\"\n");
        Result clean = run("-c", directory.toString(), "--check-config");
        assertEquals(0, clean.status(), clean.output());
        assertTrue(clean.output().contains("configuration is valid"), clean.output());

        Files.writeString(directory.resolve("milter-manager.conf"), ""
                + "manager.fallback_status = \"bogus\"\n"
                + "define_milter(\"no-spec\") do |milter|\n"
                + "end\n");
        Result broken = run("-c", directory.toString(), "--check-config");
        assertEquals(1, broken.status(), broken.output());
        assertTrue(broken.output().contains("milter-manager.conf:1"), broken.output());
        assertTrue(broken.output().contains("bogus"), broken.output());
    }
}
