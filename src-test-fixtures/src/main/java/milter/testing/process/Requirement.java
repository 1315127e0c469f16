package milter.testing.process;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real component a test needs. When it is missing the test fails under {@code CI=true} (CI installs everything
 * the suite needs, so a missing piece there is a broken setup) and is skipped elsewhere.
 */
public final class Requirement {
    private Requirement() {
    }

    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Fails or skips the calling test when {@code unavailableReason} is not null. */
    public static void require(String what, String unavailableReason) {
        if (unavailableReason == null) {
            return;
        }
        String message = what + " cannot run here: " + unavailableReason;
        if (isCi()) {
            Assertions.fail("CI=true but " + message);
        }
        Assumptions.abort(message);
    }

    /** Why one of {@code executables} cannot be run, or null when all are there. */
    public static String missingExecutable(String packageName, String... executables) {
        for (String executable : executables) {
            if (!java.nio.file.Files.isExecutable(java.nio.file.Path.of(executable))) {
                return executable + " is missing (apt-get install " + packageName + ")";
            }
        }
        return null;
    }

    /** Whether this JVM runs as root (several daemons need it to drop to their own accounts). */
    public static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"),
                    "unix:uid"));
        } catch (java.io.IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}
