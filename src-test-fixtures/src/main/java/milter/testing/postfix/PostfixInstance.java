package milter.testing.postfix;

import java.io.File;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import milter.testing.smtp.SmtpClient;

/**
 * A real, private Postfix on loopback for one test: its own configuration, queue, data and mail directories
 * under a fresh temporary directory, smtpd on {@code 127.0.0.1} at a free port, accepted mail for
 * {@code @example.com} delivered by virtual(8) into a maildir the test reads through {@link #mailbox()}.
 *
 * <p>The master daemon is run directly ({@code DAEMON_DIRECTORY/master -c CONFIG_DIR}) as a child of this JVM
 * rather than through {@code postfix start}, so nothing consults the system's {@code /etc/postfix/main.cf}
 * (no {@code alternate_config_directories} needed) and the JVM holds the one process that owns the instance. The
 * master stays in the foreground, becomes a session leader and runs every daemon in its session. {@link #close()}
 * sends it SIGTERM (it passes the signal to its whole process group), waits for it, then checks the session
 * through {@code /proc} and kills anything that is still there before deleting the directory. A shutdown hook
 * does the same if the JVM exits with the instance open, and the master's {@code -e} lifetime bounds it even if
 * the JVM is killed outright.
 *
 * <p>Postfix logs to {@link #maillog()} ({@code maillog_file} via postlogd), which {@link #diagnostics()} puts
 * into failure messages.
 */
public final class PostfixInstance implements AutoCloseable {
    public static final String SMTP_HOST = "127.0.0.1";
    /** Set to true to keep the base directory after close, for looking at a failed run. */
    public static final String KEEP_PROPERTY = "milter.testing.postfix.keep";
    private static final int PORT_ATTEMPTS = 3;
    private static final long POLL_MILLIS = 10;
    private static final Set<Integer> PORTS_IN_USE = ConcurrentHashMap.newKeySet();

    private final PostfixConfig.Layout layout;
    private final Settings settings;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;
    private final Map<String, String> mainCfValues = new LinkedHashMap<>();
    private Process master;
    private int smtpPort;
    private String mainCfText = "";
    private String masterCfText = "";
    private List<String> configurationWarnings = List.of();
    private Duration startupTime = Duration.ZERO;
    private String maillogAfterClose;

    private PostfixInstance(PostfixConfig.Layout layout, Settings settings) {
        this.layout = layout;
        this.settings = settings;
        this.shutdownHook = new Thread(this::closeFromShutdownHook, "postfix-instance-shutdown");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts an instance with the defaults (no milters). */
    public static PostfixInstance start() throws IOException {
        return builder().start();
    }

    private static PostfixInstance start(Settings settings) throws IOException {
        PostfixInstallation.requireAvailable();
        requireSearchable(settings.parentDirectory);
        Path base = Files.createTempDirectory(settings.parentDirectory, "postfix-");
        // Daemons run as the mail owner and must be able to walk down to the queue and the maildir.
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        PostfixInstance instance = new PostfixInstance(new PostfixConfig.Layout(base), settings);
        Runtime.getRuntime().addShutdownHook(instance.shutdownHook);
        try {
            instance.boot();
            return instance;
        } catch (IOException | RuntimeException | Error e) {
            try {
                instance.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The daemons run as the mail owner; every directory above the base must let them pass. */
    private static void requireSearchable(Path parent) throws IOException {
        for (Path dir = parent.toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (!Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IOException(dir + " is not searchable by other users, so the Postfix daemons (user "
                        + PostfixInstallation.MAIL_OWNER + ") could not reach an instance under " + parent
                        + "; choose another parent directory");
            }
        }
    }

    private void boot() throws IOException {
        int[] ids = PostfixInstallation.ids(PostfixInstallation.MAIL_OWNER);
        createLayout(ids[0], ids[1]);
        for (int attempt = 1; ; attempt++) {
            smtpPort = settings.smtpPort != 0 ? settings.smtpPort : reserveFreePort();
            writeConfiguration(ids[0], ids[1]);
            if (attempt == 1) {
                configurationWarnings = PostfixInstallation.postconfWarnings(layout.config());
            }
            long started = System.nanoTime();
            launchMaster();
            if (awaitListening()) {
                startupTime = Duration.ofNanos(System.nanoTime() - started);
                return;
            }
            int exitCode = master.exitValue();
            stopProcesses();
            boolean portTaken = isPortTaken(smtpPort);
            if (portTaken && settings.smtpPort == 0 && attempt < PORT_ATTEMPTS) {
                PORTS_IN_USE.remove(smtpPort);
                continue; // someone took the port between our probe and the master's bind
            }
            throw new IOException("Postfix master exited with status " + exitCode + " during startup"
                    + (portTaken ? " (port " + smtpPort + " is in use by another process)" : "") + "\n"
                    + diagnostics());
        }
    }

    /** True once the master listens; false if it exited first; an exception on timeout. */
    private boolean awaitListening() throws IOException {
        long deadline = System.nanoTime() + settings.startTimeout.toNanos();
        while (true) {
            if (!master.isAlive()) {
                return false;
            }
            if (masterListens()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new IOException("Postfix did not listen on " + SMTP_HOST + ":" + smtpPort + " within "
                        + settings.startTimeout + "\n" + diagnostics());
            }
            try {
                if (master.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for Postfix to start", e);
            }
        }
    }

    /**
     * Whether the master holds a listening socket on our port. Checked through /proc rather than by connecting,
     * so the probe neither opens an SMTP session (which would reach the milters) nor mistakes another process's
     * listener for ours.
     */
    private boolean masterListens() {
        Set<String> inodes = LoopbackListeners.inodes(smtpPort);
        if (inodes == null) {
            return connects(); // no /proc/net/tcp: fall back to a plain connect
        }
        if (inodes.isEmpty()) {
            return false;
        }
        Path fds = Path.of("/proc", Long.toString(master.pid()), "fd");
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(fds)) {
            for (Path fd : entries) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[") && inodes.contains(target.substring(8, target.length() - 1))) {
                        return true;
                    }
                } catch (IOException e) {
                    // descriptor closed meanwhile
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    private boolean connects() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(SMTP_HOST, smtpPort), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void createLayout(int mailboxUid, int mailboxGid) throws IOException {
        UserPrincipalLookupService names = layout.base().getFileSystem().getUserPrincipalLookupService();
        UserPrincipal owner = names.lookupPrincipalByName(PostfixInstallation.MAIL_OWNER);
        GroupPrincipal setgidGroup = names.lookupPrincipalByGroupName(PostfixInstallation.SETGID_GROUP);
        directory(layout.config(), null, null, "rwxr-xr-x");
        directory(layout.queue(), null, null, "rwxr-xr-x");
        // The layout Postfix's own post-install creates (see postfix-files).
        for (String name : List.of("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming",
                "private", "saved", "trace")) {
            directory(layout.queue().resolve(name), owner, null, "rwx------");
        }
        directory(layout.queue().resolve("maildrop"), owner, setgidGroup, "rwx-wx---");
        directory(layout.queue().resolve("public"), owner, setgidGroup, "rwx--x---");
        directory(layout.queue().resolve("pid"), null, null, "rwxr-xr-x");
        directory(layout.data(), owner, null, "rwx------");
        directory(layout.mail(), null, null, "rwxr-xr-x");
        // virtual(8) creates the maildir as the mailbox owner, so the parent must be that owner's.
        Files.setAttribute(layout.mail(), "unix:uid", mailboxUid);
        Files.setAttribute(layout.mail(), "unix:gid", mailboxGid);
    }

    private static void directory(Path dir, UserPrincipal owner, GroupPrincipal group, String permissions)
            throws IOException {
        Files.createDirectories(dir);
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
        if (owner != null) {
            view.setOwner(owner);
        }
        if (group != null) {
            view.setGroup(group);
        }
        view.setPermissions(PosixFilePermissions.fromString(permissions));
    }

    private void writeConfiguration(int mailboxUid, int mailboxGid) throws IOException {
        mainCfValues.clear();
        mainCfValues.putAll(PostfixConfig.defaults(layout, mailboxUid, mailboxGid));
        mainCfValues.putAll(settings.mainCf);
        mainCfText = PostfixConfig.mainCf(mainCfValues);
        masterCfText = PostfixConfig.masterCf(smtpPort);
        writeBackdated(layout.config().resolve("main.cf"), mainCfText);
        writeBackdated(layout.config().resolve("master.cf"), masterCfText);
    }

    /**
     * Postfix re-reads a configuration file, pausing 300 ms each time, for as long as its mtime is within the
     * last second or so (it might still be being written); a file written just now would cost every Postfix
     * program about two seconds at startup. The file is complete when we return, so date it in the past.
     */
    private static void writeBackdated(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.ISO_8859_1);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    }

    private void launchMaster() throws IOException {
        Path binary = PostfixInstallation.daemonDirectory(layout.config()).resolve("master");
        long lifetime = Math.max(60, settings.maxLifetime.toSeconds());
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "-c", layout.config().toString(), "-e",
                Long.toString(lifetime))
                .directory(layout.base().toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(layout.masterOutput().toFile()));
        Map<String, String> env = builder.environment();
        for (String name : List.of("MAIL_CONFIG", "MAIL_DEBUG", "MAIL_VERBOSE", "MAIL_LOGTAG")) {
            env.remove(name);
        }
        env.put("MAIL_CONFIG", layout.config().toString());
        master = builder.start();
    }

    private static int reserveFreePort() throws IOException {
        for (int i = 0; i < 100; i++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(SMTP_HOST))) {
                port = probe.getLocalPort();
            }
            if (PORTS_IN_USE.add(port)) {
                return port;
            }
        }
        throw new IOException("no free loopback port found");
    }

    private static boolean isPortTaken(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(SMTP_HOST, port), 1);
            return false;
        } catch (BindException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    // ---- what tests use ----

    public String smtpHost() {
        return SMTP_HOST;
    }

    public int smtpPort() {
        return smtpPort;
    }

    /** Opens an SMTP connection to this instance and reads the greeting. */
    public SmtpClient openSmtp() throws IOException {
        return SmtpClient.connect(SMTP_HOST, smtpPort);
    }

    /** The maildir every accepted {@code @example.com} message is delivered to. */
    public Mailbox mailbox() {
        return new Mailbox(layout.maildir());
    }

    /** Waits (up to the builder's delivery timeout) for {@code count} delivered messages; the maillog on failure. */
    public List<DeliveredMessage> awaitDelivered(int count) throws IOException {
        try {
            return mailbox().awaitMessages(count, settings.deliveryTimeout);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnostics(), e);
        }
    }

    /** Waits for {@code count} copies delivered to {@code recipient}; the maillog on failure. */
    public List<DeliveredMessage> awaitDeliveredTo(String recipient, int count) throws IOException {
        try {
            return mailbox().awaitMessagesTo(recipient, count, settings.deliveryTimeout);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnostics(), e);
        }
    }

    /** Postfix's log so far (after {@link #close()}: as it was when the instance stopped). Empty if none yet. */
    public String maillog() {
        if (maillogAfterClose != null) {
            return maillogAfterClose;
        }
        try {
            return Files.readString(layout.maillog(), StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return "(cannot read " + layout.maillog() + ": " + e.getMessage() + ")";
        }
    }

    /**
     * Waits until the maillog contains {@code text} (postlogd writes asynchronously) and returns the log; fails
     * with the log after {@code timeout}.
     */
    public String awaitLog(String text, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String log = maillog();
            if (log.contains(text)) {
                return log;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new AssertionError("maillog has no \"" + text + "\" after " + timeout + "\n" + diagnostics());
            }
            try {
                Thread.sleep(POLL_MILLIS * 2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the maillog", e);
            }
        }
    }

    public Path baseDirectory() {
        return layout.base();
    }

    public Path configDirectory() {
        return layout.config();
    }

    public Path maillogFile() {
        return layout.maillog();
    }

    /** The generated main.cf. */
    public String mainCf() {
        return mainCfText;
    }

    /** The generated master.cf. */
    public String masterCf() {
        return masterCfText;
    }

    /** The value main.cf gives {@code name} (defaults and overrides), or null if main.cf does not set it. */
    public String parameter(String name) {
        return mainCfValues.get(name);
    }

    /** What postconf warned about the generated configuration (unknown parameters and the like). */
    public List<String> configurationWarnings() {
        return configurationWarnings;
    }

    /** From launching the master to its listening on the SMTP port. */
    public Duration startupTime() {
        return startupTime;
    }

    /** The master's pid, which is also the session id of every process of this instance. */
    public long masterPid() {
        return master == null ? -1 : master.pid();
    }

    /** The processes of this instance that are alive now (master and daemons). */
    public List<ProcessHandle> processes() {
        return master == null ? List.of() : SessionProcesses.of(master.pid());
    }

    /** Where the instance lives, its configuration warnings and its log: for failure messages. */
    public String diagnostics() {
        StringBuilder sb = new StringBuilder();
        sb.append("--- Postfix instance ").append(layout.base()).append(", smtpd ").append(SMTP_HOST).append(':')
                .append(smtpPort).append(" ---\n");
        for (String warning : configurationWarnings) {
            sb.append(warning).append('\n');
        }
        String output = readQuietly(layout.masterOutput());
        if (!output.isBlank()) {
            sb.append("--- master output ---\n").append(output);
        }
        sb.append("--- maillog ---\n").append(maillog());
        return sb.toString();
    }

    // ---- shutdown ----

    /**
     * Stops every process of the instance (SIGTERM to the master, which passes it on; then SIGTERM and finally
     * SIGKILL to anything left in its session), waits until they are gone and deletes the base directory.
     * Idempotent.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            stopProcesses();
        } finally {
            maillogAfterClose = maillog();
            PORTS_IN_USE.remove(smtpPort);
            try {
                if (!settings.keepDirectory) {
                    deleteTree(layout.base());
                }
            } finally {
                if (Thread.currentThread() != shutdownHook) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(shutdownHook);
                    } catch (IllegalStateException e) {
                        // the JVM is already shutting down; the hook will find us closed
                    }
                }
            }
        }
    }

    private void closeFromShutdownHook() {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            System.err.println("stopping Postfix instance " + layout.base() + " at JVM exit failed: " + e);
        }
    }

    private void stopProcesses() throws IOException {
        Process process = master;
        if (process == null) {
            return;
        }
        long session = process.pid();
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(settings.stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
            List<ProcessHandle> left = awaitSessionGone(session, Duration.ofSeconds(5));
            if (!left.isEmpty()) {
                left.forEach(ProcessHandle::destroy);
                left = awaitSessionGone(session, Duration.ofSeconds(5));
            }
            if (!left.isEmpty()) {
                left.forEach(ProcessHandle::destroyForcibly);
                left = awaitSessionGone(session, Duration.ofSeconds(5));
            }
            if (process.isAlive() || !left.isEmpty()) {
                throw new IOException("Postfix processes of " + layout.base() + " survived SIGKILL: master "
                        + (process.isAlive() ? "alive" : "gone") + ", others " + pids(left));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            SessionProcesses.of(session).forEach(ProcessHandle::destroyForcibly);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping Postfix", e);
        }
    }

    private static List<ProcessHandle> awaitSessionGone(long session, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<ProcessHandle> left = SessionProcesses.of(session);
            if (left.isEmpty() || System.nanoTime() - deadline >= 0) {
                return left;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    private static List<Long> pids(List<ProcessHandle> handles) {
        List<Long> pids = new ArrayList<>();
        handles.forEach(h -> pids.add(h.pid()));
        return pids;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return "PostfixInstance[" + SMTP_HOST + ":" + smtpPort + ", " + layout.base() + "]";
    }

    // ---- configuration ----

    /** Immutable copy of a builder's choices. */
    private static final class Settings {
        final Path parentDirectory;
        final int smtpPort;
        final Map<String, String> mainCf;
        final Duration startTimeout;
        final Duration stopTimeout;
        final Duration deliveryTimeout;
        final Duration maxLifetime;
        final boolean keepDirectory;

        Settings(Builder b) {
            parentDirectory = b.parentDirectory;
            smtpPort = b.smtpPort;
            mainCf = Collections.unmodifiableMap(new LinkedHashMap<>(b.mainCf)); // keeps the order given
            startTimeout = b.startTimeout;
            stopTimeout = b.stopTimeout;
            deliveryTimeout = b.deliveryTimeout;
            maxLifetime = b.maxLifetime;
            keepDirectory = b.keepDirectory;
        }
    }

    /** Configures an instance; {@link #start()} brings it up. */
    public static final class Builder {
        private Path parentDirectory = Path.of(System.getProperty("java.io.tmpdir"));
        private int smtpPort;
        private final Map<String, String> mainCf = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(30);
        private Duration stopTimeout = Duration.ofSeconds(15);
        private Duration deliveryTimeout = Mailbox.DEFAULT_TIMEOUT;
        private Duration maxLifetime = Duration.ofMinutes(30);
        private boolean keepDirectory = Boolean.getBoolean(KEEP_PROPERTY);

        private Builder() {
        }

        /** Where the instance's temporary base directory is made (default: java.io.tmpdir). */
        public Builder parentDirectory(Path directory) {
            this.parentDirectory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /** A fixed SMTP port instead of a free one picked at start. */
        public Builder smtpPort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.smtpPort = port;
            return this;
        }

        /** Sets (or overrides) one main.cf parameter; an empty value writes {@code name =}. */
        public Builder mainCf(String name, String value) {
            Objects.requireNonNull(value, "value");
            PostfixConfig.checkParameter(name, value);
            mainCf.put(name, value);
            return this;
        }

        /** {@code smtpd_milters}: Postfix milter specs, e.g. {@code inet:127.0.0.1:10025} or {@code unix:/path}. */
        public Builder smtpdMilters(String milters) {
            return mainCf("smtpd_milters", milters);
        }

        /** {@code non_smtpd_milters}: for mail Postfix makes itself (bounces) or picks up locally. */
        public Builder nonSmtpdMilters(String milters) {
            return mainCf("non_smtpd_milters", milters);
        }

        /** {@code milter_protocol} (default 6). */
        public Builder milterProtocol(int version) {
            return mainCf("milter_protocol", Integer.toString(version));
        }

        /** {@code milter_default_action}: accept, reject, tempfail (default) or quarantine. */
        public Builder milterDefaultAction(String action) {
            return mainCf("milter_default_action", action.toLowerCase(Locale.ROOT));
        }

        public Builder milterConnectTimeout(Duration timeout) {
            return mainCf("milter_connect_timeout", seconds(timeout));
        }

        public Builder milterCommandTimeout(Duration timeout) {
            return mainCf("milter_command_timeout", seconds(timeout));
        }

        public Builder milterContentTimeout(Duration timeout) {
            return mainCf("milter_content_timeout", seconds(timeout));
        }

        /** How long the master may take to listen (default 30 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = positive(timeout);
            return this;
        }

        /** How long the master may take to exit after SIGTERM before it is killed (default 15 s). */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = positive(timeout);
            return this;
        }

        /** How long {@link PostfixInstance#awaitDelivered} waits (default 30 s). */
        public Builder deliveryTimeout(Duration timeout) {
            this.deliveryTimeout = positive(timeout);
            return this;
        }

        /**
         * The master's own exit time ({@code master -e}, default 30 minutes, at least one): the last safeguard
         * should the JVM die without running its shutdown hooks.
         */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = positive(lifetime);
            return this;
        }

        /** Keep the base directory after close (default: the {@value #KEEP_PROPERTY} system property). */
        public Builder keepDirectory(boolean keep) {
            this.keepDirectory = keep;
            return this;
        }

        public PostfixInstance start() throws IOException {
            return PostfixInstance.start(new Settings(this));
        }

        private static String seconds(Duration timeout) {
            return Math.max(1, positive(timeout).toSeconds()) + "s";
        }

        private static Duration positive(Duration duration) {
            if (duration.isNegative() || duration.isZero()) {
                throw new IllegalArgumentException("duration must be positive: " + duration);
            }
            return duration;
        }
    }
}
