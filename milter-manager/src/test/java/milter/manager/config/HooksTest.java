package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import milter.core.log.TaggedLogger;
import milter.core.protocol.SocketFamily;
import milter.manager.condition.ClientAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** manager.maintained, manager.event_loop_created, connection checkers: stored for the daemon, guarded. */
@ExtendWith(SharedLoader.class)
class HooksTest {
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

    private List<String> logLines() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private Configuration load(String... lines) {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n", lines) + "\n");
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.ok(), result.errors().toString());
        return result.configuration();
    }

    private static final class FakeLoop implements HookEventLoop {
        final List<Double> intervals = new ArrayList<>();
        final List<BooleanSupplier> callbacks = new ArrayList<>();

        @Override
        public void addTimeout(double seconds, BooleanSupplier callback) {
            intervals.add(seconds);
            callbacks.add(callback);
        }
    }

    @Test
    void nothingConfiguredMeansNoHooks() {
        assertSame(ConfigurationHooks.NONE, load("manager.daemon = false").hooks());
    }

    @Test
    void maintainedHooksRunInOrderAndAreGuarded() {
        Configuration c = load(
                "$maintained = []",
                "manager.maintained { $maintained << :first }",
                "manager.maintained { raise \"broken hook\" }",
                "manager.maintained(lambda { $maintained << :third })");
        ConfigurationHooks hooks = c.hooks();
        assertEquals(3, hooks.maintained().size());
        hooks.runMaintained();
        hooks.runMaintained();
        assertEquals("[:first, :third, :first, :third]",
                SharedLoader.loader().runtime().eval("$maintained.inspect").toString());
        assertTrue(logLines().contains("[configuration][maintain][error] maintained: RuntimeError: broken hook"),
                logLines().toString());
    }

    @Test
    void eventLoopCreatedHooksGetALoopWithAddTimeout() {
        Configuration c = load(
                "$ticks = 0",
                "manager.event_loop_created do |loop|",
                "  loop.add_timeout(2) { $ticks += 1; $ticks < 3 }",
                "  loop.add_timeout(0.5) { raise \"tick failed\" }",
                "end",
                "manager.event_loop_created {|loop| raise \"hook failed\"}");
        FakeLoop loop = new FakeLoop();
        c.hooks().runEventLoopCreated(loop);
        assertEquals(List.of(2.0, 0.5), loop.intervals);
        assertTrue(loop.callbacks.get(0).getAsBoolean());
        assertTrue(loop.callbacks.get(0).getAsBoolean());
        assertFalse(loop.callbacks.get(0).getAsBoolean(), "false ends the repetition");
        assertFalse(loop.callbacks.get(1).getAsBoolean(), "an exception ends it too");
        assertTrue(logLines().contains("[configuration][event-loop-created][error] event_loop_created: RuntimeError:"
                + " hook failed"), logLines().toString());
        assertTrue(logLines().contains("[configuration][timeout][error] add_timeout: RuntimeError: tick failed"),
                logLines().toString());
    }

    @Test
    void connectionCheckers() {
        Configuration c = load(
                "manager.define_connection_checker(\"first\") do |context|",
                "  context.smtp_client_address.to_s != \"inet:1@[192.0.2.9]\"",
                "end",
                "manager.define_connection_checker(\"second\") do |context|",
                "  raise \"checker failed\" if context[\"{x}\"] == \"boom\"",
                "  context.smtp_server_name == \"Postfix\" && context.smtp_server_address.unix?",
                "end",
                "manager.define_connection_checker(\"first\") {|context| true}",
                "manager.use_netstat_connection_checker(7)");
        ConfigurationHooks hooks = c.hooks();
        assertEquals(List.of("first", "second", "netstat"), new ArrayList<>(hooks.connectionCheckers().keySet()));
        assertEquals(7, hooks.netstatCheckInterval());
        assertEquals(7, c.integer(Setting.MANAGER_CONNECTION_CHECK_INTERVAL));
        assertTrue(hooks.connected(context("Postfix", Map.of())));
        assertFalse(hooks.connected(context("Sendmail", Map.of())));
        assertTrue(hooks.connected(context("Sendmail", Map.of("x", "boom"))), "an exception counts as connected");
        assertTrue(logLines().contains("[configuration][connection-check][error] second: RuntimeError: checker failed"),
                logLines().toString());
    }

    private static ConnectionCheckContext context(String server, Map<String, String> macros) {
        return new ConnectionCheckContext() {
            @Override
            public ClientAddress smtpClientAddress() {
                return new ClientAddress(SocketFamily.INET, "192.0.2.9", 1);
            }

            @Override
            public ClientAddress smtpServerAddress() {
                return new ClientAddress(SocketFamily.UNIX, "/run/mm.sock", 0);
            }

            @Override
            public String macro(String name) {
                return name.equals("v") ? server : macros.get(milter.core.protocol.Macros.normalize(name));
            }
        };
    }

    @Test
    void memoryReport() {
        Configuration c = load("manager.report_memory_statistics");
        c.hooks().runMaintained();
        assertTrue(logLines().stream().anyMatch(line -> line.matches("\\[maintain\\]\\[memory\\] \\(-?\\d+KB\\)"
                + " heap-used:\\d+KB heap-committed:\\d+KB")), logLines().toString());
    }
}
