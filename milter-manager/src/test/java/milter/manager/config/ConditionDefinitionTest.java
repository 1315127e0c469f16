package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import milter.core.log.TaggedLogger;
import milter.core.protocol.CommandType;
import milter.core.protocol.SocketFamily;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.TestStopperContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** define_applicable_condition: stoppers as the engine calls them, the context and socket_address objects. */
@ExtendWith(SharedLoader.class)
class ConditionDefinitionTest {
    private static final ClientAddress IPV4 = new ClientAddress(SocketFamily.INET, "192.0.2.1", 2929);

    @TempDir
    Path directory;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Level previousLevel;

    @BeforeEach
    void captureLog() {
        log.start();
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        // The module's logback-test.xml turns every logger off; the tagged lines are what is checked here.
        previousLevel = tagged.getLevel();
        tagged.setLevel(Level.TRACE);
        tagged.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        tagged.detachAppender(log);
        tagged.setLevel(previousLevel);
    }

    private Configuration load(String... lines) {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n", lines) + "\n");
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        return result.configuration();
    }

    private static boolean connect(ApplicableCondition condition, TestStopperContext context, String host,
            ClientAddress address) throws Exception {
        return condition.stopOnConnectAsync(context, host, address).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void hasStopperOnlyForDefinedStages() {
        Configuration c = load(
                "define_applicable_condition(\"Some\") do |condition|",
                "  condition.description = \"some stages\"",
                "  condition.define_envelope_from_stopper {|context, from| false}",
                "  condition.define_body_stopper {|context, name, chunk| false}",
                "end",
                "define_applicable_condition(\"None\") {|condition|}");
        ApplicableCondition some = c.condition("Some");
        assertEquals("some stages", some.description());
        for (CommandType stage : CommandType.values()) {
            boolean expected = stage == CommandType.ENVELOPE_FROM || stage == CommandType.BODY;
            assertEquals(expected, some.hasStopper(stage), stage.nick());
            assertFalse(c.condition("None").hasStopper(stage), stage.nick());
        }
        assertNull(c.condition("None").description());
    }

    @Test
    void everyStageGetsItsArguments() throws Exception {
        Configuration c = load(
                "define_applicable_condition(\"Record\") do |condition|",
                "  record = lambda {|context, *args| context[\"seen\"] = args.collect(&:to_s).join(\"|\"); false}",
                "  condition.define_connect_stopper {|context, host, address| record.call(context, host, address)}",
                "  condition.define_helo_stopper {|context, fqdn| record.call(context, fqdn)}",
                "  condition.define_envelope_from_stopper {|context, from| record.call(context, from)}",
                "  condition.define_envelope_recipient_stopper {|context, to| record.call(context, to)}",
                "  condition.define_data_stopper {|context| record.call(context, :data)}",
                "  condition.define_header_stopper {|context, name, value| record.call(context, name, value)}",
                "  condition.define_end_of_header_stopper {|context| record.call(context, :eoh)}",
                "  condition.define_body_stopper {|context, name, chunk| record.call(context, name, chunk)}",
                "  condition.define_end_of_message_stopper {|context| record.call(context, :eom)}",
                "end");
        ApplicableCondition condition = c.condition("Record");
        TestStopperContext context = new TestStopperContext("m");
        assertFalse(connect(condition, context, "mx.example.com", IPV4));
        assertEquals("mx.example.com|inet:2929@[192.0.2.1]", context.setMacros.get("seen"));
        assertFalse(condition.stopOnHelo(context, "helo.example"));
        assertEquals("helo.example", context.setMacros.get("seen"));
        assertFalse(condition.stopOnEnvelopeFrom(context, "<a@example.com>"));
        assertEquals("<a@example.com>", context.setMacros.get("seen"));
        assertFalse(condition.stopOnEnvelopeRecipient(context, "<b@example.com>"));
        assertEquals("<b@example.com>", context.setMacros.get("seen"));
        assertFalse(condition.stopOnData(context));
        assertEquals("data", context.setMacros.get("seen"));
        assertFalse(condition.stopOnHeader(context, "Subject", "hello"));
        assertEquals("Subject|hello", context.setMacros.get("seen"));
        assertFalse(condition.stopOnEndOfHeader(context));
        assertEquals("eoh", context.setMacros.get("seen"));
        ByteBuf chunk = Unpooled.copiedBuffer("body text", StandardCharsets.US_ASCII);
        try {
            assertFalse(condition.stopOnBody(context, chunk));
            assertEquals(0, chunk.readerIndex(), "the chunk is not consumed");
        } finally {
            chunk.release();
        }
        assertEquals("Record|body text", context.setMacros.get("seen"), "body stoppers get the condition name (Q9)");
        assertFalse(condition.stopOnEndOfMessage(context));
        assertEquals("eom", context.setMacros.get("seen"));
    }

    @Test
    void firstTrueStopsAndLaterStoppersAreNotAsked() throws Exception {
        Configuration c = load(
                "define_applicable_condition(\"Two\") do |condition|",
                "  condition.define_helo_stopper {|context, fqdn| context[\"first\"] = \"yes\"; fqdn == \"stop\"}",
                "  condition.define_helo_stopper {|context, fqdn| context[\"second\"] = \"yes\"; nil}",
                "end");
        TestStopperContext context = new TestStopperContext("m");
        assertTrue(c.condition("Two").stopOnHelo(context, "stop"));
        assertEquals(Map.of("first", "yes"), context.setMacros);
        context.setMacros.clear();
        assertFalse(c.condition("Two").stopOnHelo(context, "go"));
        assertEquals(Map.of("first", "yes", "second", "yes"), context.setMacros);
    }

    @Test
    void raisingStopperDoesNotStopAndIsLogged() {
        Configuration c = load(
                "define_applicable_condition(\"Broken\") do |condition|",
                "  condition.define_envelope_from_stopper do |context, from|",
                "    raise ArgumentError, \"bad sender #{from}\"",
                "  end",
                "  condition.define_envelope_from_stopper {|context, from| true}",
                "end");
        TestStopperContext context = new TestStopperContext("m");
        assertTrue(c.condition("Broken").stopOnEnvelopeFrom(context, "<x@y>"), "the next stopper still runs");
        List<String> lines = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertTrue(lines.contains("[children][error][applicable-condition][envelope-from] Broken: ArgumentError:"
                + " bad sender <x@y>"), lines.toString());
        assertTrue(lines.stream().anyMatch(line -> line.startsWith(
                "[children][error][applicable-condition][envelope-from] " + directory + "/milter-manager.conf:3")),
                lines.toString());
    }

    @Test
    void contextObject() throws Exception {
        Configuration c = load(
                "define_applicable_condition(\"Context\") do |condition|",
                "  condition.define_data_stopper do |context|",
                "    result = []",
                "    result << context.name",
                "    result << context[\"{auth_authen}\"] << context[\"auth_authen\"] << context[\"missing\"].inspect",
                "    result << context.reject? << context.temporary_failure? << context.accept? << context.discard?",
                "    result << context.quitted? << context.postfix? << context.authenticated?",
                "    result << context.n_processing_sessions",
                "    result << context.children.keys.join(\",\")",
                "    result << context.children[\"other\"].reject?",
                "    context.mail_transaction_shelf[:list] = [1, \"two\", {\"three\" => 3}]",
                "    result << context.mail_transaction_shelf[\"list\"].inspect",
                "    result << context.mail_transaction_shelf.collect {|key, value| key}.join(\",\")",
                "    context[\"{result}\"] = result.join(\" \")",
                "    context[\"ignored\"] = nil",
                "    false",
                "  end",
                "end");
        TestStopperContext context = new TestStopperContext("clamav");
        context.macro("{auth_authen}", "alice").macro("v", "Postfix 3.7.11");
        context.status = Status.ACCEPT;
        context.processingSessions = 3;
        TestStopperContext other = new TestStopperContext("other");
        other.status = Status.REJECT;
        context.children.put("other", other);
        assertFalse(c.condition("Context").stopOnData(context));
        assertEquals("clamav alice alice nil false false true false false true true 3 clamav,other true"
                + " [1, \"two\", {\"three\"=>3}] list", context.setMacros.get("result"));
        assertFalse(context.setMacros.containsKey("ignored"), "nil sets nothing");
        assertTrue(((String) context.shelf.get("list")).startsWith("---"), "the shelf holds YAML text");
    }

    @Test
    void socketAddressObjects() throws Exception {
        Configuration c = load(
                "define_applicable_condition(\"Address\") do |condition|",
                "  condition.define_connect_stopper do |context, host, address|",
                "    ip = address.to_ip_address",
                "    context[\"{result}\"] = [address.class.name, address.to_s, address.local?, address.ipv4?,",
                "      address.ipv6?, address.unix?, address.unknown?, ip ? ip.to_s : \"-\",",
                "      address == address.dup].join(\" \")",
                "    false",
                "  end",
                "end");
        ApplicableCondition condition = c.condition("Address");
        String[][] cases = {
            {"INET", "192.168.1.10", "25",
             "Milter::SocketAddress::IPv4 inet:25@[192.168.1.10] true true false false false 192.168.1.10 true"},
            {"INET", "172.32.0.1", "25",
             "Milter::SocketAddress::IPv4 inet:25@[172.32.0.1] false true false false false 172.32.0.1 true"},
            {"INET6", "::1", "25", "Milter::SocketAddress::IPv6 inet6:25@[::1] true false true false false ::1 true"},
            {"INET6", "fe80::1", "25",
             "Milter::SocketAddress::IPv6 inet6:25@[fe80::1] true false true false false fe80::1 true"},
            {"INET6", "2001:db8::1", "25",
             "Milter::SocketAddress::IPv6 inet6:25@[2001:db8::1] false false true false false 2001:db8::1 true"},
            {"UNIX", "/run/x.sock", "0", "Milter::SocketAddress::Unix unix:/run/x.sock true false false true false - true"},
            {"UNKNOWN", null, "0", "Milter::SocketAddress::Unknown unknown false false false false true - true"},
        };
        for (String[] entry : cases) {
            TestStopperContext context = new TestStopperContext("m");
            ClientAddress address = new ClientAddress(SocketFamily.valueOf(entry[0]), entry[1], Integer.parseInt(entry[2]));
            assertFalse(connect(condition, context, "host", address));
            assertEquals(entry[3], context.setMacros.get("result"), entry[3]);
        }
    }

    @Test
    void wireBytesSurviveBothWays() {
        Configuration c = load(
                "define_applicable_condition(\"Bytes\") do |condition|",
                "  condition.define_header_stopper do |context, name, value|",
                "    context[\"{bytesize}\"] = value.bytesize.to_s",
                "    context[\"{copy}\"] = value",
                "    value.valid_encoding? && value =~ /caf/",
                "  end",
                "end");
        TestStopperContext context = new TestStopperContext("m");
        String utf8 = new String("café".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        assertTrue(c.condition("Bytes").stopOnHeader(context, "Subject", utf8));
        assertEquals("5", context.setMacros.get("bytesize"));
        assertEquals(utf8, context.setMacros.get("copy"));
        String broken = "caf\u00ff\u00fe";
        assertTrue(c.condition("Bytes").stopOnHeader(context, "Subject", broken), "binary strings match too");
        assertEquals(broken, context.setMacros.get("copy"));
    }

    @Test
    void connectStopperMayAnswerLater() throws Exception {
        CompletableFuture<Boolean> deferred = new CompletableFuture<>();
        SharedLoader.loader().runtime().ruby().getGlobalVariables().set("$deferred",
                org.jruby.javasupport.JavaUtil.convertJavaToRuby(SharedLoader.loader().runtime().ruby(), deferred));
        Configuration c = load(
                "deferred = $deferred",
                "define_applicable_condition(\"Later\") do |condition|",
                "  condition.define_connect_stopper {|context, host, address| deferred}",
                "  condition.define_connect_stopper {|context, host, address| host == \"now\"}",
                "end");
        ApplicableCondition condition = c.condition("Later");
        assertTrue(connect(condition, new TestStopperContext("m"), "now", IPV4), "a synchronous true wins at once");
        CompletableFuture<Boolean> answer = condition.stopOnConnectAsync(new TestStopperContext("m"), "later", IPV4)
                .toCompletableFuture();
        assertFalse(answer.isDone());
        assertFalse(condition.stopOnConnect(new TestStopperContext("m"), "later", IPV4), "pending counts as go");
        deferred.complete(true);
        assertTrue(answer.get(30, TimeUnit.SECONDS));
    }

    @Test
    void otherStagesCannotWait() {
        CompletableFuture<Boolean> pending = new CompletableFuture<>();
        SharedLoader.loader().runtime().ruby().getGlobalVariables().set("$pending",
                org.jruby.javasupport.JavaUtil.convertJavaToRuby(SharedLoader.loader().runtime().ruby(), pending));
        Configuration c = load(
                "pending = $pending",
                "define_applicable_condition(\"Helo\") do |condition|",
                "  condition.define_helo_stopper {|context, fqdn| pending}",
                "end");
        assertFalse(c.condition("Helo").stopOnHelo(new TestStopperContext("m"), "x"), "not known yet: go");
        pending.complete(true);
        assertTrue(c.condition("Helo").stopOnHelo(new TestStopperContext("m"), "x"), "known: its value");
    }

    @Test
    void redefinitionKeepsOnlyTheDescription() {
        Configuration c = load(
                "define_applicable_condition(\"C\") do |condition|",
                "  condition.description = \"kept\"",
                "  condition.define_helo_stopper {|context, fqdn| true}",
                "end",
                "define_applicable_condition(\"Other\") {|condition|}",
                "define_applicable_condition(\"C\") do |condition|",
                "  raise \"description\" unless condition.description == \"kept\"",
                "end");
        assertEquals("kept", c.condition("C").description());
        assertFalse(c.condition("C").hasStopper(CommandType.HELO), "earlier stoppers are lost");
        assertEquals(List.of("Other", "C"), new ArrayList<>(c.conditions().keySet()), "moves last");
        assertEquals(directory.resolve("milter-manager.conf") + ":6", c.location("applicable_condition[C]"));
        assertEquals(directory.resolve("milter-manager.conf") + ":2",
                c.location("applicable_condition[C].description"));
    }

    /** Stoppers run on several event loops at once: one runtime, no shared mutable Ruby state. */
    @Test
    void concurrentCallsFromManyThreads() throws Exception {
        Configuration c = load(
                "define_applicable_condition(\"Pattern\") do |condition|",
                "  condition.define_envelope_from_stopper do |context, from|",
                "    context[\"thread\"] = from",
                "    /\\A<spam-\\d+-\\d+@/ =~ from ? true : false",
                "  end",
                "end");
        ApplicableCondition condition = c.condition("Pattern");
        int threads = 8;
        int calls = 2000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < calls; i++) {
                        TestStopperContext context = new TestStopperContext("m" + id);
                        boolean spam = i % 2 == 0;
                        String from = (spam ? "<spam-" : "<ham-") + id + "-" + i + "@example.com>";
                        if (condition.stopOnEnvelopeFrom(context, from) != spam
                                || !from.equals(context.setMacros.get("thread"))) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            start.countDown();
            for (Future<Integer> result : results) {
                assertEquals(0, result.get(120, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }
    }
}
