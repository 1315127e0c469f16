package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import milter.core.protocol.CommandType;
import milter.core.protocol.SocketFamily;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.TestStopperContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** define_policy (behaviour spec §4.5): one "Policy" condition on every milter, built after the top file. */
@ExtendWith(SharedLoader.class)
class PolicyTest {
    @TempDir
    Path directory;

    @Test
    void policiesBecomeOneConditionOnEveryMilter() {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n",
                "define_policy(\"inbound\") do |policy|",
                "  policy.milters = [\"greylist\"]",
                "  policy.address = Milter::SocketAddress::IPv4.new(\"192.0.2.1\", 25)",
                "  policy.from = /@example\\.com>\\z/",
                "  policy.recipient = \"<postmaster@example.org>\"",
                "end",
                "define_milter(\"greylist\") do |milter|",
                "  milter.connection_spec = \"inet:1@localhost\"",
                "  milter.fallback_status = \"reject\"",
                "end",
                "define_milter(\"other\") {|milter| milter.connection_spec = \"inet:2@localhost\"}",
                ""));
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        Configuration c = result.configuration();
        assertEquals(List.of("Policy"), c.egg("greylist").applicableConditions());
        assertEquals(List.of("Policy"), c.egg("other").applicableConditions());
        assertEquals(Status.REJECT, c.egg("greylist").fallbackStatus(), "adding the policy keeps the milter as is");
        ApplicableCondition policy = c.condition("Policy");
        assertEquals("Apply policies defined by define_policy", policy.description());
        assertEquals(List.of(CommandType.CONNECT, CommandType.ENVELOPE_FROM, CommandType.ENVELOPE_RECIPIENT,
                CommandType.DATA), List.of(CommandType.values()).stream().filter(policy::hasStopper).toList());

        TestStopperContext greylist = new TestStopperContext("greylist");
        assertFalse(policy.stopOnConnect(greylist, "h", new ClientAddress(SocketFamily.INET, "192.0.2.1", 25)));
        assertTrue(policy.stopOnConnect(greylist, "h", new ClientAddress(SocketFamily.INET, "192.0.2.2", 25)));
        assertFalse(policy.stopOnEnvelopeFrom(greylist, "<a@example.com>"));
        assertTrue(policy.stopOnEnvelopeFrom(greylist, "<a@example.net>"));
        assertFalse(policy.stopOnEnvelopeRecipient(greylist, "<postmaster@example.org>"));
        assertTrue(policy.stopOnEnvelopeRecipient(greylist, "<root@example.org>"));
        assertFalse(policy.stopOnData(greylist));

        TestStopperContext other = new TestStopperContext("other");
        assertFalse(policy.stopOnEnvelopeFrom(other, "<a@example.net>"), "not in the policy: not filtered");
        assertTrue(policy.stopOnData(other), "upstream's data stopper stops milters outside every policy (Q2)");
    }

    @Test
    void noPolicyNoCondition() {
        SharedLoader.write(directory, "milter-manager.conf", "define_milter(\"m\") {|milter|}\n");
        Configuration c = SharedLoader.load(directory).configuration();
        assertNull(c.condition("Policy"));
        assertEquals(List.of(), c.egg("m").applicableConditions());
    }
}
