package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.CommandType;
import milter.core.protocol.SocketFamily;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.TestStopperContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A site tree in the stock layout (test resource {@code realistic/}) over the shipped {@code conf/}: its own
 * condition with stoppers, platform defaults, a local file with several milters, built-in helpers and a policy.
 */
@ExtendWith(SharedLoader.class)
class RealisticTreeTest {
    private static Path tree;
    private static Configuration configuration;

    @BeforeAll
    static void load() {
        tree = SharedLoader.resource("realistic");
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder().loadPath(tree)
                .loadPath(SharedLoader.shippedConf()).platform("test").build());
        assertTrue(result.ok(), result.errors().toString());
        configuration = result.configuration();
        assertEquals(tree.resolve("milter-manager.conf").toString(), result.loadedFiles().get(0));
        assertEquals(tree.resolve("applicable-conditions/header-guard.conf").toString(), result.loadedFiles().get(1),
                "the site's conditions come first: globs are expanded load path by load path");
    }

    private String local(int line) {
        return tree.resolve("milter-manager.local.conf") + ":" + line;
    }

    @Test
    void settings() {
        assertTrue(configuration.bool(Setting.SECURITY_PRIVILEGE_MODE));
        assertEquals(tree.resolve("defaults/test.conf") + ":6", configuration.location("security.privilege_mode"));
        assertEquals("unix:/run/milter-manager/milter-manager.sock",
                configuration.spec(Setting.MANAGER_CONNECTION_SPEC).toString());
        assertEquals(Status.TEMPORARY_FAILURE, configuration.fallbackStatus());
        assertEquals(local(6), configuration.location("manager.fallback_status"));
        assertEquals(100, configuration.integer(Setting.MANAGER_MAX_CONNECTIONS));
    }

    @Test
    void conditions() {
        List<String> names = new ArrayList<>(configuration.conditions().keySet());
        assertEquals(List.of("Header Guard", "Authenticated", "Unauthenticated", "DNSBL Listed", "Not DNSBL Listed",
                "Remote Network", "S25R", "Sendmail Compatible", "Stress Notify", "No Stress", "Trust", "Lists Only",
                "Policy"), names);
    }

    @Test
    void milters() {
        assertEquals(List.of("packaged-clamav", "milter-greylist", "opendkim", "spamass-milter"),
                configuration.eggs().stream().map(Egg::name).toList(),
                "restrict_accounts_by_list moved spamass-milter last, as upstream's define_milter does");
        Egg clamav = configuration.egg("packaged-clamav");
        assertTrue(clamav.enabled());
        assertEquals("/usr/bin/systemctl", clamav.command(), "kept from the packaged definition");
        assertEquals("start clamav-milter", clamav.commandOptions());
        assertEquals(Status.TEMPORARY_FAILURE, clamav.fallbackStatus(), "kept through the policy's amendment");
        Egg spamass = configuration.egg("spamass-milter");
        assertEquals(List.of("Remote Network", "No Stress", "Header Guard", "Lists Only", "Policy"),
                spamass.applicableConditions());
        assertTrue(spamass.evaluationMode(), "restrict_accounts_* keeps the other fields");
        assertEquals(15.0, spamass.writingTimeout());
        assertEquals(local(29), configuration.location("milter[spamass-milter].applicable_condition[No Stress]"),
                "conditions kept by `+=` keep their location");
        assertEquals(local(45), configuration.location("milter[spamass-milter].applicable_condition[Policy]"),
                "what the policies add is recorded at define_policy");
        assertEquals(local(45), configuration.location("applicable_condition[Policy]"));
        assertEquals(List.of("Authenticated", "Policy"), configuration.egg("opendkim").applicableConditions());
        assertEquals(List.of("Sendmail Compatible", "Stress Notify", "Trust", "Remote Network", "S25R",
                "Unauthenticated", "Policy"), configuration.egg("milter-greylist").applicableConditions());
    }

    @Test
    void siteConditionStoppers() {
        ApplicableCondition guard = configuration.condition("Header Guard");
        assertEquals(List.of(CommandType.HELO, CommandType.HEADER, CommandType.END_OF_HEADER, CommandType.BODY),
                List.of(CommandType.values()).stream().filter(guard::hasStopper).toList());
        TestStopperContext context = new TestStopperContext("spamass-milter");
        assertTrue(guard.stopOnHelo(context, "monitor.example.net"));
        assertFalse(guard.stopOnHelo(context, "mx.example.com"));
        assertFalse(guard.stopOnHeader(context, "Subject", "yes"));
        assertFalse(guard.stopOnEndOfHeader(context));
        assertTrue(guard.stopOnHeader(context, "x-internal", "Yes"));
        assertEquals("yes", context.setMacros.get("internal"));
        assertTrue(guard.stopOnEndOfHeader(context));
        ByteBuf chunk = Unpooled.copiedBuffer("...X-Loop-Check...", StandardCharsets.US_ASCII);
        try {
            assertTrue(guard.stopOnBody(context, chunk));
        } finally {
            chunk.release();
        }
    }

    @Test
    void localTuningOfBuiltInConditions() throws Exception {
        ApplicableCondition s25r = configuration.condition("S25R");
        ClientAddress remote = new ClientAddress(SocketFamily.INET, "203.0.113.7", 4025);
        assertFalse(s25r.stopOnConnectAsync(new TestStopperContext("g"), "dsl-1-2-3-4.example.net", remote)
                .toCompletableFuture().get(30, TimeUnit.SECONDS));
        assertTrue(s25r.stopOnConnectAsync(new TestStopperContext("g"), "dsl-1-2-3.mail.example.org", remote)
                .toCompletableFuture().get(30, TimeUnit.SECONDS), "whitelisted in the local file");

        ApplicableCondition remoteNetwork = configuration.condition("Remote Network");
        ClientAddress added = new ClientAddress(SocketFamily.INET, "198.51.100.20", 4025);
        assertTrue(remoteNetwork.stopOnConnect(new TestStopperContext("g"), "h", added), "made local locally");

        ApplicableCondition trust = configuration.condition("Trust");
        TestStopperContext partner = new TestStopperContext("g");
        assertFalse(trust.stopOnEnvelopeFrom(partner, "<bob@Partner.Example.com>"));
        assertEquals("yes", partner.setMacros.get("trusted_domain"));
        TestStopperContext regexp = new TestStopperContext("g");
        trust.stopOnEnvelopeFrom(regexp, "<alice@mx.trusted.example>");
        assertEquals("yes", regexp.setMacros.get("trusted_domain"));

        ApplicableCondition noStress = configuration.condition("No Stress");
        TestStopperContext busy = new TestStopperContext("g");
        busy.processingSessions = 20;
        assertTrue(noStress.stopOnConnect(busy, "h", remote), "threshold 20 set locally");
        busy.processingSessions = 19;
        assertFalse(noStress.stopOnConnect(busy, "h", remote));
    }

    @Test
    void policyAndRestrictedAccounts() {
        ApplicableCondition policy = configuration.condition("Policy");
        ClientAddress address = new ClientAddress(SocketFamily.INET, "203.0.113.7", 4025);
        assertTrue(policy.stopOnConnect(new TestStopperContext("opendkim"), "mx.other.example", address));
        assertFalse(policy.stopOnConnect(new TestStopperContext("opendkim"), "mx.partner.example.com", address));
        assertFalse(policy.stopOnConnect(new TestStopperContext("spamass-milter"), "mx.other.example", address),
                "milters outside the policy are not stopped at connect");
        assertTrue(policy.stopOnData(new TestStopperContext("spamass-milter")), "upstream: data stops them (Q2)");
        assertFalse(policy.hasStopper(CommandType.HELO));

        ApplicableCondition lists = configuration.condition("Lists Only");
        TestStopperContext context = new TestStopperContext("spamass-milter");
        assertFalse(lists.stopOnEnvelopeRecipient(context, "<postmaster@example.com>"));
        assertFalse(lists.stopOnEnvelopeRecipient(context, "<dev@lists.example.com>"));
        assertFalse(lists.stopOnData(context));
        assertTrue(lists.stopOnEnvelopeRecipient(context, "<someone@example.com>"));
        assertEquals("true", context.setMacros.get("have-not-restricted-account"));
        assertTrue(lists.stopOnData(context));
    }

    @Test
    void dumpNamesEveryOrigin() {
        String dump = ConfigurationDumper.dump(configuration);
        assertTrue(dump.contains("# " + local(26) + "\ndefine_milter(\"spamass-milter\") do |milter|\n"), dump);
        assertTrue(dump.contains("    # " + local(30) + "\n    \"Header Guard\",\n"), dump);
        assertTrue(dump.contains("    # default\n    \"Lists Only\",\n"), dump);
        assertTrue(dump.contains("  # " + local(32) + "\n  milter.writing_timeout = 15.0\n"), dump);
        assertTrue(dump.contains("# " + tree.resolve("applicable-conditions/header-guard.conf") + ":8\n"
                + "define_applicable_condition(\"Header Guard\") do |condition|\n"), dump);
    }
}
