package milter.manager.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Debian package on this machine: installed with dpkg, its service's ExecStart run as the unit's user, one
 * session, SIGHUP, SIGTERM, purge ({@code src/test/deb/package-smoke-test.sh}). It changes the system, so it runs
 * only in CI (CI=true), as root; there a missing tool fails it.
 */
class DebianPackageIT {

    @Test
    void packageInstallsServesReloadsStopsAndPurges() throws Exception {
        assumeTrue("true".equals(System.getenv("CI")), "installs a package: runs only with CI=true");
        assertEquals("root", System.getProperty("user.name"), "CI runs as root");
        Path target = DistProcess.dist().getParent();
        Path deb;
        try (Stream<Path> files = Files.list(target)) {
            List<Path> debs = files.filter(file -> file.getFileName().toString().matches(
                    "milter-manager_.*_all\\.deb")).toList();
            assertEquals(1, debs.size(), "one package in " + target + ": " + debs);
            deb = debs.get(0);
        }
        Path script = Path.of(System.getProperty("milter.deb.test",
                "src/test/deb/package-smoke-test.sh"));
        Process process = new ProcessBuilder("sh", script.toString(), deb.toString()).redirectErrorStream(true)
                .start();
        byte[] output = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(10, TimeUnit.MINUTES), "the package test did not end");
        String text = new String(output, StandardCharsets.UTF_8);
        System.out.println(text);
        assertEquals(0, process.exitValue(), text);
        assertTrue(text.contains("[package-smoke-test] session: status: pass"), text);
        assertTrue(text.contains("[manager][reload] configuration reloaded"), text);
        assertTrue(text.contains("[package-smoke-test] PASSED"), text);
    }
}
