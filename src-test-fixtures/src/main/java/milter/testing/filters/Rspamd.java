package milter.testing.filters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import milter.testing.process.Directories;
import milter.testing.process.LoopbackPorts;
import milter.testing.process.ManagedProcess;
import milter.testing.process.Requirement;

/**
 * rspamd as a milter: its {@code rspamd_proxy} worker in milter mode scanning by itself ({@code self_scan}), from a
 * private configuration that loads no module (no DNS, no Redis, no fuzzy storage; only the C core runs) and a
 * three-line TLD list (the distribution's list costs seconds to compile at every start). Test patterns are on:
 * {@link SpamAssassin#GTUBE} is rejected with {@code 554 5.7.1 Gtube pattern}, the add-header pattern
 * ({@link SpamAssassin#RSPAMD_ADD_HEADER_GTUBE}) adds {@code X-Spam: Yes}.
 */
public final class Rspamd implements RealMilter {
    public static final String RSPAMD = "/usr/bin/rspamd";
    public static final String REJECT_REPLY = "554 5.7.1 Gtube pattern";
    private static final String USER = "_rspamd";

    private final Path directory;
    private final ManagedProcess process;
    private final MilterAddress address;

    private Rspamd(Path directory, ManagedProcess process, MilterAddress address) {
        this.directory = directory;
        this.process = process;
        this.address = address;
    }

    public static void requireAvailable() {
        String missing = Requirement.missingExecutable("rspamd", RSPAMD);
        if (missing == null && !Requirement.isRoot()) {
            missing = "rspamd must start as root to run as " + USER;
        }
        Requirement.require("rspamd", missing);
    }

    public static Rspamd start(String name) throws IOException, InterruptedException {
        requireAvailable();
        Path directory = Directories.createBase("rspamd");
        ManagedProcess process = null;
        try {
            Path db = directory.resolve("db");
            Files.createDirectories(db);
            Directories.write(directory.resolve("tld.dat"), "com\norg\nnet\n");
            int port = LoopbackPorts.free();
            Path conf = Directories.write(directory.resolve("rspamd.conf"), "options {\n"
                    + "  pidfile = \"" + directory.resolve("rspamd.pid") + "\";\n"
                    + "  filters = \"\";\n"
                    + "  explicit_modules = [];\n"
                    + "  enable_test_patterns = true;\n"
                    + "  url_tld = \"" + directory.resolve("tld.dat") + "\";\n"
                    + "  dynamic_conf = \"" + db.resolve("dynamic") + "\";\n"
                    + "  history_file = \"" + db.resolve("history") + "\";\n"
                    + "  stats_file = \"" + db.resolve("stats.ucl") + "\";\n"
                    + "  cache_file = \"" + db.resolve("symbols.cache") + "\";\n"
                    + "  control_socket = \"" + db.resolve("rspamd.sock") + " mode=0600\";\n"
                    + "  hs_cache_dir = \"" + db + "/\";\n"
                    + "  tempdir = \"" + db + "\";\n"
                    // Nothing should resolve; if something tried, it would get a refusal from loopback.
                    + "  dns { nameserver = [\"127.0.0.1:9\"]; timeout = 1s; retransmits = 1; }\n"
                    + "}\n"
                    + "logging { type = \"console\"; level = \"info\"; }\n"
                    + "actions { reject = 15; rewrite_subject = 8; add_header = 6; greylist = 4; }\n"
                    + "worker \"rspamd_proxy\" {\n"
                    + "  bind_socket = \"127.0.0.1:" + port + "\";\n"
                    + "  milter = yes;\n"
                    + "  timeout = 120s;\n"
                    + "  upstream \"local\" { default = yes; self_scan = yes; }\n"
                    + "  count = 1;\n"
                    + "  spam_header = \"X-Spam\";\n"
                    + "}\n");
            Directories.chown(db, USER);
            process = ManagedProcess.start(name, List.of(RSPAMD, "-f", "-c", conf.toString(), "-u", USER, "-g",
                    USER));
            process.awaitListening(port, Duration.ofSeconds(60));
            return new Rspamd(directory, process, new MilterAddress(name, port));
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (process != null) {
                process.close();
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
        return process.diagnostics();
    }

    @Override
    public void close() throws IOException {
        try {
            process.close();
        } finally {
            Directories.deleteRecursively(directory);
        }
    }
}
