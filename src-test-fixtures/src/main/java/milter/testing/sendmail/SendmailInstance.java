package milter.testing.sendmail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.postfix.Mailbox;
import milter.testing.process.Directories;
import milter.testing.process.LoopbackPorts;
import milter.testing.process.ManagedProcess;
import milter.testing.smtp.SmtpClient;

/**
 * A private Sendmail daemon on 127.0.0.1 with its milters, configured from an m4 {@code .mc} file of our own
 * (see {@link #mc()}), its own queue and a maildir. Every {@code @example.com} recipient is delivered by a small
 * program mailer into {@code BASE/mail} with a {@code Delivered-To:} header first (as Postfix's virtual(8) does),
 * so {@link Mailbox} reads it; nothing else is delivered anywhere.
 *
 * <p>The daemon runs in its own PID, mount and UTS namespaces ({@code unshare}): its host name is
 * {@code mx.example.com} and {@code /etc/hosts} is a private file bound over the system's one inside the
 * namespace only. Sendmail insists on a fully qualified own host name at start (it sleeps a minute otherwise) and
 * looks host names up through the C library; this way neither touches the system's configuration nor DNS. Ending
 * the daemon (PID 1 of its namespace) ends every process it started.
 *
 * <p>Sendmail logs only to syslog; the SMTP and mailer transcript it writes with {@code -X} is what
 * {@link #diagnostics()} shows.
 */
public final class SendmailInstance implements AutoCloseable {
    public static final String HOST_NAME = "mx.example.com";
    public static final String SMTP_HOST = "127.0.0.1";

    private final Path base;
    private final int port;
    private final String mc;
    private final ManagedProcess process;
    private final Mailbox mailbox;
    private final Duration deliveryTimeout;

    private SendmailInstance(Path base, int port, String mc, ManagedProcess process, Duration deliveryTimeout) {
        this.base = base;
        this.port = port;
        this.mc = mc;
        this.process = process;
        this.mailbox = new Mailbox(base.resolve("mail"));
        this.deliveryTimeout = deliveryTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int smtpPort() {
        return port;
    }

    public SmtpClient openSmtp() throws IOException {
        return SmtpClient.connect(SMTP_HOST, port);
    }

    public Mailbox mailbox() {
        return mailbox;
    }

    public List<DeliveredMessage> awaitDeliveredTo(String recipient, int count) throws IOException {
        try {
            return mailbox.awaitMessagesTo(recipient, count, deliveryTimeout);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + diagnostics(), e);
        }
    }

    /** The {@code .mc} file the configuration was generated from. */
    public String mc() {
        return mc;
    }

    public Path baseDirectory() {
        return base;
    }

    /** The end of the SMTP/mailer transcript and the daemon's own output. */
    public String diagnostics() {
        StringBuilder out = new StringBuilder("--- sendmail on port ").append(port).append('\n');
        out.append(process.diagnostics());
        try {
            Path trace = base.resolve("trace");
            if (Files.exists(trace)) {
                List<String> lines = Files.readAllLines(trace, java.nio.charset.StandardCharsets.ISO_8859_1);
                out.append("--- transcript (last 80 lines)\n");
                lines.subList(Math.max(0, lines.size() - 80), lines.size())
                        .forEach(line -> out.append(line).append('\n'));
            }
            try (var queued = Files.list(base.resolve("queue"))) {
                out.append("--- queue: ").append(queued.map(p -> p.getFileName().toString()).toList()).append('\n');
            }
        } catch (IOException e) {
            out.append("(transcript unreadable: ").append(e).append(")\n");
        }
        return out.toString();
    }

    @Override
    public void close() throws IOException {
        try {
            process.close();
        } finally {
            Directories.deleteRecursively(base);
        }
    }

    /** One {@code INPUT_MAIL_FILTER}: name, libmilter socket spec, failure flag ({@code T}, {@code R} or none). */
    public record Milter(String name, String spec, String flags, String timeouts) {
        String m4() {
            String equates = "S=" + spec;
            if (!flags.isEmpty()) {
                equates += ", F=" + flags;
            }
            if (!timeouts.isEmpty()) {
                equates += ", T=" + timeouts;
            }
            return "INPUT_MAIL_FILTER(`" + name + "', `" + equates + "')dnl\n";
        }
    }

    public static final class Builder {
        private final List<Milter> milters = new ArrayList<>();
        private Duration startTimeout = Duration.ofSeconds(30);
        private Duration deliveryTimeout = Mailbox.DEFAULT_TIMEOUT;

        private Builder() {
        }

        /**
         * Adds a milter. {@code flags}: {@code T} tempfails and {@code R} rejects when the milter fails, empty
         * goes on without it. {@code timeouts} as Sendmail writes them: {@code C:10s;S:30s;R:30s;E:60s}.
         */
        public Builder milter(String name, String spec, String flags, String timeouts) {
            milters.add(new Milter(name, spec, flags, timeouts));
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        public Builder deliveryTimeout(Duration timeout) {
            this.deliveryTimeout = timeout;
            return this;
        }

        public SendmailInstance start() throws IOException, InterruptedException {
            SendmailInstallation installation = SendmailInstallation.require();
            Path base = Directories.createBase("sendmail");
            ManagedProcess process = null;
            try {
                int port = LoopbackPorts.free();
                String mc = mc(base, port);
                Path etc = base.resolve("etc");
                Directories.write(etc.resolve("sendmail.mc"), mc);
                Directories.write(etc.resolve("hosts"), "127.0.0.1 " + HOST_NAME + " mx localhost\n"
                        + "127.0.0.2 client2.example.org\n"
                        + "::1 " + HOST_NAME + " mx localhost\n");
                Directories.write(etc.resolve("service.switch"), "hosts files\naliases files\n");
                for (String list : List.of("local-host-names", "trusted-users", "relay-domains")) {
                    Directories.write(etc.resolve(list), "");
                }
                Path queue = base.resolve("queue");
                Files.createDirectories(queue);
                Files.setPosixFilePermissions(queue, PosixFilePermissions.fromString("rwx------"));
                for (String sub : List.of("tmp", "new", "cur")) {
                    Files.createDirectories(base.resolve("mail").resolve(sub));
                }
                Path mail = base.resolve("mail");
                Directories.writeScript(base.resolve("bin/deliver"), "#!/bin/sh\n"
                        + "# Program mailer: one call per recipient ($1), the message on stdin with LF line ends.\n"
                        + "name=\"$(date +%s).$$.$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')\"\n"
                        + "{ printf 'Delivered-To: %s\\n' \"$1\"; cat; } > '" + mail + "'/tmp/\"$name\" &&\n"
                        + "  mv '" + mail + "'/tmp/\"$name\" '" + mail + "'/new/\"$name\"\n");
                Directories.writeScript(base.resolve("bin/devnull"), "#!/bin/sh\nexec cat > /dev/null\n");
                String cf = Directories.run(base, "m4", "-D_CF_DIR_=" + installation.cfDirectory() + "/",
                        installation.cfDirectory().resolve("m4/cf.m4").toString(), etc.resolve("sendmail.mc")
                                .toString());
                Path cfFile = Directories.write(etc.resolve("sendmail.cf"), cf);
                String script = "mount --bind '" + etc.resolve("hosts") + "' /etc/hosts && hostname " + HOST_NAME
                        + " && exec '" + installation.binary() + "' -bD -C '" + cfFile + "' -X '"
                        + base.resolve("trace") + "'";
                process = ManagedProcess.start("sendmail", List.of("unshare", "--pid", "--fork", "--kill-child",
                        "--mount", "--uts", "--", "/bin/sh", "-c", script));
                process.awaitListening(port, startTimeout);
                return new SendmailInstance(base, port, mc, process, deliveryTimeout);
            } catch (IOException | InterruptedException | RuntimeException | Error e) {
                if (process != null) {
                    process.close();
                }
                Directories.deleteRecursively(base);
                throw e;
            }
        }

        private String mc(Path base, int port) {
            StringBuilder mc = new StringBuilder();
            mc.append("divert(-1)\n")
                    .append("# Private test instance: loopback only, no DNS, no local delivery.\n")
                    .append("divert(0)dnl\n")
                    .append("OSTYPE(`linux')dnl\n")
                    .append("define(`confDOMAIN_NAME', `" + HOST_NAME + "')dnl\n")
                    .append("define(`QUEUE_DIR', `" + base.resolve("queue") + "')dnl\n")
                    .append("define(`confPID_FILE', `" + base.resolve("sendmail.pid") + "')dnl\n")
                    .append("define(`STATUS_FILE', `" + base.resolve("sendmail.st") + "')dnl\n")
                    .append("define(`ALIAS_FILE', `')dnl\n")
                    .append("define(`confHELP_FILE', `')dnl\n")
                    .append("define(`confCW_FILE', `-o " + base.resolve("etc/local-host-names") + "')dnl\n")
                    .append("define(`confCT_FILE', `-o " + base.resolve("etc/trusted-users") + "')dnl\n")
                    .append("define(`confCR_FILE', `-o " + base.resolve("etc/relay-domains") + "')dnl\n")
                    .append("define(`confSERVICE_SWITCH_FILE', `" + base.resolve("etc/service.switch") + "')dnl\n")
                    .append("define(`confDONT_PROBE_INTERFACES', `True')dnl\n")
                    .append("define(`confBIND_OPTS', `-DNSRCH -DEFNAMES')dnl\n")
                    .append("define(`confDELIVERY_MODE', `background')dnl\n")
                    .append("define(`confQUEUE_LA', `999')dnl\n")
                    .append("define(`confREFUSE_LA', `999')dnl\n")
                    .append("define(`confDELAY_LA', `0')dnl\n")
                    .append("define(`confMAX_MESSAGE_SIZE', `52428800')dnl\n")
                    .append("define(`confTO_IDENT', `0s')dnl\n")
                    .append("define(`confDONT_BLAME_SENDMAIL', `GroupWritableDirPathSafe')dnl\n")
                    .append("define(`confPRIVACY_FLAGS', `goaway')dnl\n")
                    .append("define(`confMILTER_LOG_LEVEL', `9')dnl\n")
                    .append("FEATURE(`no_default_msa')dnl\n")
                    .append("FEATURE(`nocanonify')dnl\n")
                    .append("FEATURE(`accept_unresolvable_domains')dnl\n")
                    .append("FEATURE(`accept_unqualified_senders')dnl\n")
                    .append("DAEMON_OPTIONS(`Family=inet, Name=MTA, Port=" + port + ", Addr=127.0.0.1')dnl\n")
                    .append("RELAY_DOMAIN(`example.com')dnl\n");
            List<String> names = new ArrayList<>();
            for (Milter milter : milters) {
                mc.append(milter.m4());
                names.add(milter.name());
            }
            if (!names.isEmpty()) {
                mc.append("define(`confINPUT_MAIL_FILTERS', `" + String.join(",", names) + "')dnl\n");
            }
            mc.append("MAILER(`smtp')dnl\n")
                    .append("MAILER_DEFINITIONS\n")
                    .append("Mfile,\tP=" + base.resolve("bin/deliver")
                            + ", F=lsDFMPhnq8S, T=DNS/RFC822/X-Unix, A=deliver $u\n")
                    .append("Mdevnull,\tP=" + base.resolve("bin/devnull")
                            + ", F=lsnq8S, T=DNS/RFC822/X-Unix, A=devnull $u\n")
                    .append("LOCAL_RULE_0\n")
                    .append("R$+ < @ example.com . >\t$#file $@ example.com $: $1 @ example.com\n")
                    .append("R$+ < @ example.com >\t$#file $@ example.com $: $1 @ example.com\n")
                    .append("R$* < @ $* > $*\t$#devnull $@ localhost $: $1\n")
                    .append("R$+\t$#devnull $@ localhost $: $1\n");
            return mc.toString();
        }
    }
}
