package milter.manager.condition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.CommandType;
import milter.core.protocol.SocketFamily;
import milter.manager.config.Configuration;
import milter.manager.config.LoadRequest;
import milter.manager.config.LoadResult;
import milter.manager.config.SharedLoader;
import org.jruby.javasupport.JavaUtil;
import org.jruby.runtime.builtin.IRubyObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped {@code conf/applicable-conditions/*.conf}, loaded through the shipped {@code milter-manager.conf}
 * with a local file that tunes them, asked at the stages where each one acts. DNS goes only to a server the test
 * runs on loopback.
 */
@ExtendWith(SharedLoader.class)
class BuiltInConditionsTest {
    @TempDir
    static Path local;

    private static TestDnsServer dns;
    private static Configuration configuration;

    @BeforeAll
    static void load() throws Exception {
        dns = new TestDnsServer()
                .a("2.113.0.203.bl.test", "127.0.0.2")
                .a("3.113.0.203.bl.test", "127.0.0.3")
                .ptr("25.2.0.192.in-addr.arpa", "mx.example.net");
        SharedLoader.write(local, "milter-manager.local.conf", String.join("\n",
                "s25r.add_blacklist {|host| host.start_with?(\"bad.\")}",
                "s25r.add_whitelist(\"unknown-but-trusted\")",
                "remote_network.add_local_address(\"203.0.113.0/24\")",
                "remote_network.add_local_address(\"2001:db8:c2:201::/64\")",
                "remote_network.add_remote_address(\"192.168.100.0/24\")",
                "trust.add_envelope_from_domain(/\\.trusted\\.example\\z/)",
                "trust.add_envelope_from_domain {|domain| domain == \"block.example\"}",
                "stress.threshold_n_connections = 5",
                "sendmail_compatible.name_servers = [\"" + dns.address() + "\"]",
                "$interface_names = sendmail_compatible.interface_names",
                "dnsbl.clear_services",
                "dnsbl.add_service(\"bl.test\", \"127.0.0.2\")",
                "dnsbl.name_servers = [\"" + dns.address() + "\"]",
                "dnsbl.timeout = 2",
                "$dnsbl = dnsbl",
                "define_milter(\"spam\") {|milter| milter.connection_spec = \"inet:1@[127.0.0.1]\"}",
                "define_milter(\"virus\") {|milter| milter.connection_spec = \"inet:2@[127.0.0.1]\"}",
                "restrict_accounts_by_list(\"alice@example.com\", /@team\\.example\\.com\\z/, milters: [\"spam\"])",
                "restrict_accounts_generic(condition_name: \"Odd\", milters: [\"virus\"]) do |context, recipient|",
                "  recipient.length.odd?",
                "end",
                ""));
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder().loadPath(local)
                .loadPath(SharedLoader.shippedConf()).platform("test").build());
        assertTrue(result.ok(), result.errors().toString());
        configuration = result.configuration();
    }

    @AfterAll
    static void stopDns() throws Exception {
        dns.close();
    }

    private static ClientAddress ipv4(String address) {
        return new ClientAddress(SocketFamily.INET, address, 4025);
    }

    private static ClientAddress ipv6(String address) {
        return new ClientAddress(SocketFamily.INET6, address, 4025);
    }

    private static boolean connect(String condition, TestStopperContext context, String host, ClientAddress address)
            throws Exception {
        return configuration.condition(condition).stopOnConnectAsync(context, host, address).toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
    }

    private static boolean connect(String condition, String host, ClientAddress address) throws Exception {
        return connect(condition, new TestStopperContext("m"), host, address);
    }

    private static void onlyAt(String condition, CommandType... stages) {
        for (CommandType stage : CommandType.values()) {
            assertEquals(java.util.List.of(stages).contains(stage), configuration.condition(condition).hasStopper(stage),
                    condition + " at " + stage.nick());
        }
    }

    @Test
    void s25rAppliesOnlyToGenericLookingClients() throws Exception {
        onlyAt("S25R", CommandType.CONNECT);
        ClientAddress address = ipv4("198.51.100.8");
        for (String generic : new String[] {"unknown", "[198.51.100.8]", "p1234567.example.ne.jp",
            "dhcp-198-51-100-8.example.com", "ab12cd34.example.com", "adsl12-34.example.co.uk",
            "ppp-12.example.net", "bad.example.com"}) {
            assertFalse(connect("S25R", generic, address), generic + " is black: the milter applies");
        }
        for (String normal : new String[] {"mail.example.com", "mx1.example.co.jp", "smtp.example.org",
            "ab12cd34.google.com", "o1.sendgrid.net", "unknown-but-trusted"}) {
            assertTrue(connect("S25R", normal, address), normal + " is white or not black: stopped");
        }
        assertTrue(connect("S25R", "ab12cd34.example.com", ipv6("2001:db8::8")), "only IPv4 is checked");
    }

    @Test
    void remoteNetwork() throws Exception {
        onlyAt("Remote Network", CommandType.CONNECT);
        for (ClientAddress local : new ClientAddress[] {ipv4("127.0.0.1"), ipv4("10.1.2.3"), ipv4("172.16.0.1"),
            ipv4("172.31.255.254"), ipv4("192.168.1.10"), ipv4("203.0.113.77"), ipv6("::1"), ipv6("fe80::1"),
            ipv6("2001:db8:c2:201::fff0"), new ClientAddress(SocketFamily.UNIX, "/run/postfix.sock", 0),
            new ClientAddress(SocketFamily.UNKNOWN, null, 0)}) {
            assertTrue(connect("Remote Network", "h", local), local + " is not remote: stopped");
        }
        for (ClientAddress remote : new ClientAddress[] {ipv4("8.8.8.8"), ipv4("172.32.0.1"),
            ipv4("192.168.100.7"), ipv6("2001:db8:c2:202::fff0")}) {
            assertFalse(connect("Remote Network", "h", remote), remote + " is remote: the milter applies");
        }
    }

    @Test
    void authenticatedAndUnauthenticated() {
        onlyAt("Authenticated", CommandType.ENVELOPE_FROM);
        onlyAt("Unauthenticated", CommandType.ENVELOPE_FROM);
        TestStopperContext anonymous = new TestStopperContext("m");
        TestStopperContext user = new TestStopperContext("m").macro("{auth_authen}", "alice");
        TestStopperContext typed = new TestStopperContext("m").macro("auth_type", "PLAIN");
        ApplicableCondition authenticated = configuration.condition("Authenticated");
        ApplicableCondition unauthenticated = configuration.condition("Unauthenticated");
        assertTrue(authenticated.stopOnEnvelopeFrom(anonymous, "<a@example.com>"));
        assertFalse(authenticated.stopOnEnvelopeFrom(user, "<a@example.com>"));
        assertFalse(authenticated.stopOnEnvelopeFrom(typed, "<a@example.com>"));
        assertFalse(unauthenticated.stopOnEnvelopeFrom(anonymous, "<a@example.com>"));
        assertTrue(unauthenticated.stopOnEnvelopeFrom(user, "<a@example.com>"));
    }

    @Test
    void trustMarksTrustedSenderDomains() {
        onlyAt("Trust", CommandType.ENVELOPE_FROM);
        ApplicableCondition trust = configuration.condition("Trust");
        for (String trusted : new String[] {"<bob@gmail.com>", "<bob@GMail.COM>", "<x@mx.trusted.example>",
            "<y@block.example>"}) {
            TestStopperContext context = new TestStopperContext("m");
            assertFalse(trust.stopOnEnvelopeFrom(context, trusted), "Trust never stops");
            assertEquals("yes", context.setMacros.get("trusted_domain"), trusted);
        }
        for (String other : new String[] {"<bob@example.net>", "bob@gmail.com", "<>", "<bob@gmail.com.evil>"}) {
            TestStopperContext context = new TestStopperContext("m");
            assertFalse(trust.stopOnEnvelopeFrom(context, other));
            assertNull(context.setMacros.get("trusted_domain"), other);
        }
    }

    @Test
    void restrictAccounts() {
        onlyAt("Restrict Accounts by List: [\"alice@example.com\", /@team\\.example\\.com\\z/]",
                CommandType.ENVELOPE_RECIPIENT, CommandType.DATA);
        assertEquals(java.util.List.of("Restrict Accounts by List: [\"alice@example.com\", /@team\\.example\\.com\\z/]"),
                configuration.egg("spam").applicableConditions());
        assertEquals(java.util.List.of("Odd"), configuration.egg("virus").applicableConditions());
        ApplicableCondition list = configuration.condition(configuration.egg("spam").applicableConditions().get(0));
        TestStopperContext context = new TestStopperContext("spam");
        assertFalse(list.stopOnEnvelopeRecipient(context, "<alice@example.com>"));
        assertFalse(list.stopOnEnvelopeRecipient(context, "<bob@team.example.com>"));
        assertFalse(list.stopOnData(context), "only restricted recipients: the milter sees the message");
        assertTrue(list.stopOnEnvelopeRecipient(context, "<carol@example.com>"));
        assertTrue(list.stopOnData(context));

        ApplicableCondition odd = configuration.condition("Odd");
        assertFalse(odd.stopOnEnvelopeRecipient(new TestStopperContext("virus"), "<a@b.c>"));
        assertTrue(odd.stopOnEnvelopeRecipient(new TestStopperContext("virus"), "<ab@b.c>"));
    }

    @Test
    void stressWithASetThreshold() throws Exception {
        onlyAt("Stress Notify", CommandType.CONNECT);
        onlyAt("No Stress", CommandType.CONNECT);
        TestStopperContext calm = new TestStopperContext("m");
        calm.processingSessions = 4;
        assertFalse(connect("Stress Notify", calm, "h", ipv4("198.51.100.1")));
        assertNull(calm.setMacros.get("stress"));
        assertFalse(connect("No Stress", calm, "h", ipv4("198.51.100.1")));

        TestStopperContext busy = new TestStopperContext("m");
        busy.processingSessions = 5;
        assertFalse(connect("Stress Notify", busy, "h", ipv4("198.51.100.1")), "Stress Notify never stops");
        assertEquals("yes", busy.setMacros.get("stress"));
        assertTrue(connect("No Stress", busy, "h", ipv4("198.51.100.1")));
    }

    @Test
    void sendmailCompatibleForPostfix() throws Exception {
        onlyAt("Sendmail Compatible", CommandType.CONNECT, CommandType.ENVELOPE_FROM);
        ApplicableCondition condition = configuration.condition("Sendmail Compatible");
        TestStopperContext sendmail = new TestStopperContext("m").macro("v", "8.17.1").macro("daemon_addr", "192.0.2.25");
        assertFalse(connect("Sendmail Compatible", sendmail, "h", ipv4("198.51.100.1")));
        assertFalse(condition.stopOnEnvelopeFrom(sendmail, "<a@b>"));
        assertTrue(sendmail.setMacros.isEmpty(), "nothing to do for Sendmail");

        TestStopperContext postfix = new TestStopperContext("m").macro("v", "Postfix 3.7.11")
                .macro("{daemon_addr}", "192.0.2.25");
        assertFalse(connect("Sendmail Compatible", postfix, "h", ipv4("198.51.100.1")));
        assertEquals("192.0.2.25", postfix.setMacros.get("if_addr"));
        IRubyObject cache = SharedLoader.loader().runtime().eval("$interface_names");
        InterfaceNameCache names = (InterfaceNameCache) JavaUtil.unwrapJavaObject(cache);
        assertEquals("mx.example.net", names.resolve("192.0.2.25").get(30, TimeUnit.SECONDS));
        TestStopperContext later = new TestStopperContext("m").macro("v", "Postfix 3.7.11")
                .macro("daemon_addr", "192.0.2.25");
        assertFalse(connect("Sendmail Compatible", later, "h", ipv4("198.51.100.1")));
        assertEquals("mx.example.net", later.setMacros.get("if_name"), "cached for later sessions");

        assertFalse(condition.stopOnEnvelopeFrom(postfix, "<a@b>"));
        assertEquals("dummy-id", postfix.setMacros.get("i"));
        TestStopperContext queued = new TestStopperContext("m").macro("v", "Postfix").macro("i", "4F2B1");
        assertFalse(condition.stopOnEnvelopeFrom(queued, "<a@b>"));
        assertNull(queued.setMacros.get("i"), "a real queue id is kept");
    }

    @Test
    void dnsblListedAndNotListed() throws Exception {
        onlyAt("DNSBL Listed", CommandType.CONNECT);
        onlyAt("Not DNSBL Listed", CommandType.CONNECT);
        assertFalse(connect("DNSBL Listed", "h", ipv4("203.0.113.2")), "listed: the milter applies");
        assertTrue(connect("Not DNSBL Listed", "h", ipv4("203.0.113.2")));
        assertTrue(connect("DNSBL Listed", "h", ipv4("203.0.113.3")), "answer outside the expected range");
        assertTrue(connect("DNSBL Listed", "h", ipv4("203.0.113.4")), "NXDOMAIN");
        assertFalse(connect("Not DNSBL Listed", "h", ipv4("203.0.113.4")));
        assertTrue(connect("DNSBL Listed", "h", ipv6("2001:db8::2")), "only IPv4 is ever listed");
        assertFalse(connect("Not DNSBL Listed", "h", ipv6("2001:db8::2")));

        CompletableFuture<Boolean> pending = configuration.condition("Not DNSBL Listed")
                .stopOnConnectAsync(new TestStopperContext("m"), "h", ipv4("203.0.113.2")).toCompletableFuture();
        assertTrue(pending.get(30, TimeUnit.SECONDS), "the engine gets a future: no event loop ever waits");
        assertEquals("true", SharedLoader.loader().runtime().eval(
                "$dnsbl.listed?(Milter::SocketAddress::IPv4.new(\"203.0.113.2\", 25)).to_s").toString());
        assertEquals("[\"bl.test\"]", SharedLoader.loader().runtime().eval("$dnsbl.services.inspect").toString());
    }
}
