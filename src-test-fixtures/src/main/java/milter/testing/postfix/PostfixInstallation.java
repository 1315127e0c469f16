package milter.testing.postfix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the installed Postfix lives and whether a test may use it. A test that needs Postfix calls
 * {@link #requireAvailable()}: under {@code CI=true} a missing Postfix (or not running as root) fails the test,
 * elsewhere it skips it.
 */
public final class PostfixInstallation {
    public static final Path POSTFIX = Path.of("/usr/sbin/postfix");
    public static final Path POSTCONF = Path.of("/usr/sbin/postconf");
    /** The owner of the queue and the account Postfix daemons drop to (Postfix's {@code mail_owner} default). */
    public static final String MAIL_OWNER = "postfix";
    /** The group of the {@code maildrop} and {@code public} queue directories ({@code setgid_group} default). */
    public static final String SETGID_GROUP = "postdrop";

    private static volatile Path daemonDirectory;

    private PostfixInstallation() {
    }

    /** Fails (under {@code CI=true}) or skips (elsewhere) the calling test unless Postfix can be run here. */
    public static void requireAvailable() {
        require(unavailableReason(), isCi());
    }

    static void require(String unavailableReason, boolean ci) {
        if (unavailableReason == null) {
            return;
        }
        if (ci) {
            Assertions.fail("CI=true but a private Postfix instance cannot run: " + unavailableReason);
        }
        Assumptions.abort("a private Postfix instance cannot run: " + unavailableReason);
    }

    /** Why Postfix cannot be used here, or null when it can. */
    public static String unavailableReason() {
        if (!Files.isExecutable(POSTFIX)) {
            return POSTFIX + " is missing (apt-get install postfix)";
        }
        if (!Files.isExecutable(POSTCONF)) {
            return POSTCONF + " is missing";
        }
        if (!isRoot()) {
            return "the master daemon must be started as root";
        }
        return null;
    }

    static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    static boolean isRoot() {
        try {
            // /proc/self belongs to the effective user of the reading process.
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** Postfix's {@code daemon_directory} (where {@code master} lives), asked from {@code postconf} once. */
    static Path daemonDirectory(Path configDirectory) throws IOException {
        Path known = daemonDirectory;
        if (known == null) {
            // postconf needs a readable main.cf; the instance's own one answers with the compiled-in default.
            String value = run(List.of(POSTCONF.toString(), "-c", configDirectory.toString(), "-h",
                    "daemon_directory")).trim();
            if (value.isEmpty()) {
                throw new IOException("postconf printed no daemon_directory");
            }
            known = Path.of(value);
            daemonDirectory = known;
        }
        return known;
    }

    /** Numeric uid and gid of a system account, as {@code id} reports them. */
    static int[] ids(String user) throws IOException {
        int uid = Integer.parseInt(run(List.of("id", "-u", user)).trim());
        int gid = Integer.parseInt(run(List.of("id", "-g", user)).trim());
        return new int[] {uid, gid};
    }

    /** Warnings postconf prints about a configuration directory (unknown parameters, bad values); empty if none. */
    static List<String> postconfWarnings(Path configDirectory) throws IOException {
        String output = run(List.of(POSTCONF.toString(), "-c", configDirectory.toString(), "-n"), true);
        List<String> warnings = new ArrayList<>();
        for (String line : output.split("\n")) {
            // argv[0] is the full path when run from here: "/usr/sbin/postconf: warning: ..."
            if (line.contains("postconf: warning: ") || line.contains("postconf: fatal: ")) {
                warnings.add(line);
            }
        }
        return warnings;
    }

    static String run(List<String> command) throws IOException {
        return run(command, false);
    }

    private static String run(List<String> command, boolean mergeErrors) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null")));
        if (mergeErrors) {
            builder.redirectErrorStream(true);
        } else {
            builder.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        builder.environment().remove("MAIL_CONFIG");
        Process process = builder.start();
        try {
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + String.join(" ", command));
            }
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ": "
                        + new String(output, StandardCharsets.ISO_8859_1).trim());
            }
            return new String(output, StandardCharsets.ISO_8859_1);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }
}
