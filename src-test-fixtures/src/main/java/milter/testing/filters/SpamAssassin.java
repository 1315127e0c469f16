package milter.testing.filters;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import milter.testing.process.Directories;
import milter.testing.process.LoopbackPorts;
import milter.testing.process.ManagedProcess;
import milter.testing.process.Requirement;

/**
 * spamass-milter in front of a private spamd, both on loopback. spamd runs local tests only ({@code -L}, no DNS,
 * no Bayes) with the distribution's rules and a private site configuration: the plugin list of
 * {@code /etc/spamassassin/*.pre} (read, never written) plus a {@code local.cf} of our own. spamass-milter marks
 * and does not touch the body or Subject ({@code -m}).
 *
 * <p>Besides GTUBE, the local configuration scores rspamd's add-header test pattern as spam
 * ({@link #RSPAMD_ADD_HEADER_GTUBE}), so one message can show both spam children marking it.
 */
public final class SpamAssassin implements RealMilter {
    public static final String SPAMD = "/usr/sbin/spamd";
    public static final String SPAMC = "/usr/bin/spamc";
    public static final String SPAMASS_MILTER = "/usr/sbin/spamass-milter";
    /** SpamAssassin's own GTUBE (also rspamd's reject pattern). */
    public static final String GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    /** rspamd's add-header test pattern, which the private local.cf scores 1000 here. */
    public static final String RSPAMD_ADD_HEADER_GTUBE =
            "YJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
    private static final Path SITE_RULES = Path.of("/etc/spamassassin");
    private static final String SPAMD_USER = "debian-spamd";

    private final Path directory;
    private final ManagedProcess spamd;
    private final ManagedProcess milter;
    private final MilterAddress address;

    private SpamAssassin(Path directory, ManagedProcess spamd, ManagedProcess milter, MilterAddress address) {
        this.directory = directory;
        this.spamd = spamd;
        this.milter = milter;
        this.address = address;
    }

    public static void requireAvailable() {
        String missing = Requirement.missingExecutable("spamassassin spamd spamc spamass-milter", SPAMD, SPAMC,
                SPAMASS_MILTER);
        if (missing == null && !Files.isRegularFile(SITE_RULES.resolve("v320.pre"))) {
            missing = SITE_RULES + "/v320.pre is missing (apt-get install spamassassin)";
        }
        if (missing == null && !Requirement.isRoot()) {
            missing = "spamd must start as root to run as " + SPAMD_USER;
        }
        Requirement.require("spamass-milter with spamd", missing);
    }

    public static SpamAssassin start(String name) throws IOException, InterruptedException {
        requireAvailable();
        Path directory = Directories.createBase("spamassassin");
        ManagedProcess spamd = null;
        ManagedProcess milter = null;
        try {
            Path site = directory.resolve("site");
            Files.createDirectories(site);
            try (DirectoryStream<Path> pre = Files.newDirectoryStream(SITE_RULES, "*.pre")) {
                for (Path file : pre) {
                    Files.copy(file, site.resolve(file.getFileName().toString()));
                }
            }
            Directories.write(site.resolve("local.cf"), "use_bayes 0\n"
                    + "skip_rbl_checks 1\n"
                    + "dns_available no\n"
                    + "required_score 5.0\n"
                    + "report_safe 0\n"
                    + "body E2E_RSPAMD_ADD_HEADER_GTUBE /" + RSPAMD_ADD_HEADER_GTUBE.replace(".", "\\.")
                            .replace("*", "\\*") + "/\n"
                    + "describe E2E_RSPAMD_ADD_HEADER_GTUBE rspamd's add-header test pattern\n"
                    + "score E2E_RSPAMD_ADD_HEADER_GTUBE 1000\n");
            Path home = directory.resolve("home");
            Files.createDirectories(home);
            Directories.chown(home, SPAMD_USER);
            int spamdPort = LoopbackPorts.free();
            spamd = ManagedProcess.start(name + "-spamd", List.of(SPAMD, "-L", "-x",
                    "--listen=127.0.0.1:" + spamdPort, "--allowed-ips=127.0.0.1",
                    "--pidfile=" + directory.resolve("spamd.pid"), "-u", SPAMD_USER, "-s", "stderr",
                    "--max-children=4", "--min-children=2", "--min-spare=1", "--max-spare=2",
                    "--siteconfigpath=" + site, "--helper-home-dir=" + home, "--nouser-config"));
            spamd.awaitLine(Pattern.compile("server started on"), Duration.ofSeconds(60));
            int port = LoopbackPorts.free();
            milter = ManagedProcess.start(name, List.of(SPAMASS_MILTER, "-p", "inet:" + port + "@127.0.0.1", "-m",
                    "-P", directory.resolve("spamass-milter.pid").toString(),
                    "--", "-d", "127.0.0.1", "-p", Integer.toString(spamdPort)));
            milter.awaitListening(port, Duration.ofSeconds(30));
            return new SpamAssassin(directory, spamd, milter, new MilterAddress(name, port));
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (milter != null) {
                milter.close();
            }
            if (spamd != null) {
                spamd.close();
            }
            Directories.deleteRecursively(directory);
            throw e;
        }
    }

    @Override
    public MilterAddress address() {
        return address;
    }

    @Override
    public String diagnostics() {
        return milter.diagnostics() + spamd.diagnostics();
    }

    @Override
    public void close() throws IOException {
        try {
            milter.close();
        } finally {
            try {
                spamd.close();
            } finally {
                Directories.deleteRecursively(directory);
            }
        }
    }
}
