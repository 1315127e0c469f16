package milter.testing.sendmail;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import milter.testing.process.Directories;
import milter.testing.process.Requirement;

/**
 * Where a runnable Sendmail comes from. Debian's sendmail and postfix packages conflict, and the machine has
 * Postfix installed; so Sendmail is unpacked from the distribution's own packages ({@code apt-get download
 * sendmail-bin sendmail-base sendmail-cf}, {@code dpkg-deb -x}) into a private cache directory and run from
 * there. A system-wide Sendmail installation is used as it is when one exists.
 *
 * <p>The cache directory is the system property {@value #CACHE_PROPERTY} (the build sets it below
 * {@code target/}), else {@code java.io.tmpdir/milter-testing-sendmail}. It is filled once; a marker file says it
 * is complete, and a file lock keeps two JVMs from filling it at the same time.
 */
public final class SendmailInstallation {
    public static final String CACHE_PROPERTY = "milter.testing.sendmail.cache";
    static final List<String> PACKAGES = List.of("sendmail-bin", "sendmail-base", "sendmail-cf");
    private static final Path SYSTEM_BINARY = Path.of("/usr/libexec/sendmail/sendmail");
    private static final Path SYSTEM_CF = Path.of("/usr/share/sendmail/cf");
    private static final String[] TOOLS = {"/usr/bin/m4", "/usr/bin/unshare", "/usr/bin/mount", "/usr/bin/hostname"};
    private static final String COMPLETE = ".complete";

    private static Object located;

    private final Path root;

    private SendmailInstallation(Path root) {
        this.root = root;
    }

    /** The directory the packages' files are below ({@code /} for a system installation). */
    public Path root() {
        return root;
    }

    public Path binary() {
        return root.resolve("usr/libexec/sendmail/sendmail");
    }

    /** The m4 configuration kit ({@code cf/m4/cf.m4} and its features, mailers and OS types). */
    public Path cfDirectory() {
        return root.resolve("usr/share/sendmail/cf");
    }

    /**
     * The installation to use. Fails the test under {@code CI=true}, and skips it elsewhere, when Sendmail
     * cannot be had or cannot run here (not root, a tool or library missing, the packages not downloadable).
     */
    public static synchronized SendmailInstallation require() {
        if (located == null) {
            located = locate();
        }
        if (located instanceof SendmailInstallation installation) {
            return installation;
        }
        Requirement.require("a private Sendmail", (String) located);
        throw new IllegalStateException("unreachable");
    }

    private static Object locate() {
        if (!Requirement.isRoot()) {
            return "the daemon must be started as root";
        }
        for (String tool : TOOLS) {
            if (!Files.isExecutable(Path.of(tool))) {
                return tool + " is missing";
            }
        }
        SendmailInstallation installation;
        if (Files.isExecutable(SYSTEM_BINARY) && Files.isRegularFile(SYSTEM_CF.resolve("m4/cf.m4"))) {
            installation = new SendmailInstallation(Path.of("/"));
        } else {
            try {
                installation = new SendmailInstallation(unpacked(cacheDirectory()));
            } catch (IOException e) {
                return "the Sendmail packages could not be unpacked: " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while unpacking Sendmail";
            }
        }
        try {
            String libraries = Directories.run(null, "ldd", installation.binary().toString());
            for (String line : libraries.split("\n")) {
                if (line.contains("not found")) {
                    return "a library of " + installation.binary() + " is missing: " + line.trim()
                            + " (apt-get install the dependencies of sendmail-bin, e.g. libwrap0 liblockfile1)";
                }
            }
        } catch (IOException e) {
            return "ldd " + installation.binary() + " failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
        return installation;
    }

    static Path cacheDirectory() {
        String configured = System.getProperty(CACHE_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "milter-testing-sendmail");
    }

    /** {@code CACHE/root}, downloading and unpacking the packages first unless a previous run finished that. */
    static Path unpacked(Path cache) throws IOException, InterruptedException {
        Files.createDirectories(cache);
        Path root = cache.resolve("root");
        try (FileChannel channel = FileChannel.open(cache.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = channel.lock()) {
            if (Files.exists(root.resolve(COMPLETE))) {
                return root;
            }
            Directories.deleteRecursively(root);
            Path debs = cache.resolve("debs");
            Directories.deleteRecursively(debs);
            Files.createDirectories(debs);
            List<String> download = new ArrayList<>(List.of("apt-get", "download", "-q"));
            download.addAll(PACKAGES);
            Directories.run(debs, download.toArray(String[]::new));
            Path unpacking = cache.resolve("root.partial");
            Directories.deleteRecursively(unpacking);
            Files.createDirectories(unpacking);
            int count = 0;
            try (DirectoryStream<Path> files = Files.newDirectoryStream(debs, "*.deb")) {
                for (Path deb : files) {
                    Directories.run(null, "dpkg-deb", "-x", deb.toString(), unpacking.toString());
                    count++;
                }
            }
            if (count != PACKAGES.size()) {
                throw new IOException("expected " + PACKAGES.size() + " packages in " + debs + ", found " + count);
            }
            Files.createFile(unpacking.resolve(COMPLETE));
            Files.move(unpacking, root);
            Directories.deleteRecursively(debs);
            return root;
        }
    }
}
