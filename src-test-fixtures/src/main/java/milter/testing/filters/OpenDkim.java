package milter.testing.filters;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import milter.testing.process.Directories;
import milter.testing.process.LoopbackPorts;
import milter.testing.process.ManagedProcess;
import milter.testing.process.Requirement;

/**
 * A private opendkim on loopback, signing or verifying. The verifier reads the signer's public key from a file
 * ({@code TestPublicKeys}: opendkim's own way to look keys up without DNS), so no name server is involved.
 */
public final class OpenDkim implements RealMilter {
    public static final String OPENDKIM = "/usr/sbin/opendkim";
    /** The authserv-id the verifier writes into Authentication-Results. */
    public static final String AUTHSERV_ID = "mx.example.com";

    private final Path directory;
    private final ManagedProcess process;
    private final MilterAddress address;

    private OpenDkim(Path directory, ManagedProcess process, MilterAddress address) {
        this.directory = directory;
        this.process = process;
        this.address = address;
    }

    /** Fails (CI) or skips the test unless opendkim and opendkim-genkey are installed. */
    public static void requireAvailable() {
        Requirement.require("opendkim", Requirement.missingExecutable("opendkim opendkim-tools", OPENDKIM,
                DkimKey.GENKEY));
    }

    /** Signs mail from 127.0.0.1 whose From: is in the key's domain (opendkim's default InternalHosts). */
    public static OpenDkim signer(String name, DkimKey key) throws IOException {
        return start(name, directory -> "Mode s\n"
                + "Domain " + key.domain() + "\n"
                + "Selector " + key.selector() + "\n"
                + "KeyFile " + key.privateKey() + "\n"
                // The key lives in a temporary directory other users can list.
                + "RequireSafeKeys no\n");
    }

    /** Verifies signatures made with {@code key}; adds {@code Authentication-Results: mx.example.com; dkim=...}. */
    public static OpenDkim verifier(String name, DkimKey key) throws IOException {
        return start(name, directory -> "Mode v\n"
                + "TestPublicKeys " + Directories.write(directory.resolve("public-keys"),
                        key.recordName() + " " + key.txtRecord() + "\n") + "\n"
                + "AuthservID " + AUTHSERV_ID + "\n");
    }

    private interface Settings {
        String write(Path directory) throws IOException;
    }

    private static OpenDkim start(String name, Settings settings) throws IOException {
        requireAvailable();
        Path directory = Directories.createBase("opendkim");
        ManagedProcess process = null;
        try {
            int port = LoopbackPorts.free();
            Path conf = Directories.write(directory.resolve("opendkim.conf"), settings.write(directory)
                    + "Socket inet:" + port + "@127.0.0.1\n"
                    + "PidFile " + directory.resolve("opendkim.pid") + "\n"
                    + "Syslog no\n"
                    + "UMask 022\n");
            process = ManagedProcess.start(name, List.of(OPENDKIM, "-f", "-x", conf.toString()));
            process.awaitListening(port, Duration.ofSeconds(30));
            return new OpenDkim(directory, process, new MilterAddress(name, port));
        } catch (IOException | RuntimeException | Error e) {
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
