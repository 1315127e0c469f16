package milter.testing.postfix;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The main.cf and master.cf of one private instance. Everything lives under the instance's base directory; the
 * only listener is smtpd on 127.0.0.1; nothing is relayed, looked up in DNS or delivered outside the base
 * directory. Accepted mail for {@code @example.com} goes to one maildir, {@code BASE/mail/inbox/}.
 */
final class PostfixConfig {
    static final String MAILBOX_DOMAIN = "example.com";
    static final String MAILDIR = "inbox";
    private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z0-9_]+");

    private PostfixConfig() {
    }

    /** The directories an instance uses, all under {@code base}. */
    record Layout(Path base) {
        Path config() {
            return base.resolve("etc");
        }

        Path queue() {
            return base.resolve("queue");
        }

        Path data() {
            return base.resolve("data");
        }

        Path mail() {
            return base.resolve("mail");
        }

        Path maildir() {
            return mail().resolve(MAILDIR);
        }

        Path maillog() {
            return base.resolve("maillog");
        }

        Path masterOutput() {
            return base.resolve("master.out");
        }
    }

    /** The main.cf settings before the test's overrides, in the order they are written. */
    static Map<String, String> defaults(Layout layout, int mailboxUid, int mailboxGid) {
        Map<String, String> cf = new LinkedHashMap<>();
        cf.put("compatibility_level", "3.6");
        cf.put("queue_directory", layout.queue().toString());
        cf.put("data_directory", layout.data().toString());
        cf.put("maillog_file", layout.maillog().toString());
        // Postfix only logs to files under these prefixes; the default (/var) would refuse our temp directory.
        cf.put("maillog_file_prefixes", layout.base().toString());
        cf.put("myhostname", "mx.example.com");
        cf.put("mydomain", "example.com");
        cf.put("myorigin", "$mydomain");
        cf.put("mydestination", "");
        cf.put("relay_domains", "");
        cf.put("relayhost", "");
        cf.put("inet_interfaces", "127.0.0.1");
        cf.put("inet_protocols", "ipv4");
        cf.put("mynetworks", "127.0.0.0/8");
        cf.put("smtp_dns_support_level", "disabled");
        cf.put("smtpd_peername_lookup", "no");
        cf.put("default_transport", "error:outbound mail is disabled in this test instance");
        cf.put("relay_transport", "error:relaying is disabled in this test instance");
        cf.put("local_transport", "error:local delivery is disabled in this test instance");
        cf.put("alias_maps", "");
        cf.put("alias_database", "");
        cf.put("virtual_mailbox_domains", MAILBOX_DOMAIN);
        cf.put("virtual_mailbox_base", layout.mail().toString());
        // One maildir for every recipient; each delivered copy names its recipient in Delivered-To.
        cf.put("virtual_mailbox_maps", "static:" + MAILDIR + "/");
        cf.put("virtual_uid_maps", "static:" + mailboxUid);
        cf.put("virtual_gid_maps", "static:" + mailboxGid);
        cf.put("virtual_minimum_uid", String.valueOf(mailboxUid));
        cf.put("virtual_mailbox_limit", "0");
        cf.put("message_size_limit", "52428800");
        cf.put("notify_classes", "");
        cf.put("biff", "no");
        cf.put("in_flow_delay", "0");
        cf.put("smtpd_error_sleep_time", "0");
        cf.put("smtpd_milters", "");
        cf.put("non_smtpd_milters", "");
        cf.put("milter_protocol", "6");
        cf.put("milter_default_action", "tempfail");
        cf.put("milter_connect_timeout", "10s");
        cf.put("milter_command_timeout", "30s");
        cf.put("milter_content_timeout", "60s");
        return cf;
    }

    static void checkParameter(String name, String value) {
        if (!PARAMETER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a main.cf parameter name: " + name);
        }
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("main.cf value for " + name + " spans lines");
        }
    }

    static String mainCf(Map<String, String> settings) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Private Postfix instance for one test run (milter.testing.postfix.PostfixInstance).\n");
        settings.forEach((name, value) -> {
            checkParameter(name, value);
            sb.append(name).append(" =");
            if (!value.isEmpty()) {
                sb.append(' ').append(value);
            }
            sb.append('\n');
        });
        return sb.toString();
    }

    /**
     * The services of a receiving-and-delivering instance: smtpd on the test port, the queue machinery, the
     * virtual delivery agent and postlogd (for maillog_file). No chroot, so milter sockets and the maildir are
     * reached by their real paths.
     */
    static String masterCf(int smtpPort) {
        return "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
                + "127.0.0.1:" + smtpPort + " inet  n       -       n       -       -       smtpd\n"
                + "pickup    unix  n       -       n       60      1       pickup\n"
                + "cleanup   unix  n       -       n       -       0       cleanup\n"
                + "qmgr      unix  n       -       n       300     1       qmgr\n"
                + "rewrite   unix  -       -       n       -       -       trivial-rewrite\n"
                + "bounce    unix  -       -       n       -       0       bounce\n"
                + "defer     unix  -       -       n       -       0       bounce\n"
                + "trace     unix  -       -       n       -       0       bounce\n"
                + "verify    unix  -       -       n       -       1       verify\n"
                + "flush     unix  n       -       n       1000?   0       flush\n"
                + "proxymap  unix  -       -       n       -       -       proxymap\n"
                + "showq     unix  n       -       n       -       -       showq\n"
                + "error     unix  -       -       n       -       -       error\n"
                + "retry     unix  -       -       n       -       -       error\n"
                + "discard   unix  -       -       n       -       -       discard\n"
                + "virtual   unix  -       n       n       -       -       virtual\n"
                + "anvil     unix  -       -       n       -       1       anvil\n"
                + "scache    unix  -       -       n       -       1       scache\n"
                + "postlog   unix-dgram n  -       n       -       1       postlogd\n";
    }
}
