package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import milter.core.protocol.SocketFamily;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.TestStopperContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Configuration load time and the cost of one stopper call, measured with plain loops (figures in
 * docs/performance.md). Never part of a test run (disabled unless {@code milter.benchmark=true}); run it with
 *
 * <pre>mvn -o -q -pl milter-manager -am test -Dtest=ConfigurationBenchmark -Dmilter.benchmark=true
 *     -Dsurefire.failIfNoSpecifiedTests=false</pre>
 *
 * It only checks that each measured call gives the expected answer; it asserts nothing about speed.
 */
class ConfigurationBenchmark {
    private static final int WARM_UP_CALLS = 300_000;
    private static final int MEASURED_CALLS = 1_000_000;
    private static final int ROUNDS = 3;

    @Test
    @EnabledIfSystemProperty(named = "milter.benchmark", matches = "true")
    void measure() throws IOException {
        run(System.out);
    }

    public static void main(String[] args) throws IOException {
        run(System.out);
    }

    static void run(PrintStream out) throws IOException {
        Path stock = SharedLoader.shippedConf();
        Path site = SharedLoader.resource("realistic");
        long started = System.nanoTime();
        try (RubyConfigurationLoader loader = RubyConfigurationLoader.start()) {
            long runtimeReady = System.nanoTime();
            LoadRequest stockRequest = LoadRequest.builder().loadPath(stock).platform("debian").build();
            LoadResult first = loader.load(stockRequest);
            long firstLoad = System.nanoTime();
            assertTrue(first.ok(), first.errors().toString());
            out.printf("JRuby runtime + DSL library start: %d ms%n", millis(runtimeReady - started));
            out.printf("first load of the stock conf/ tree (cold runtime): %d ms%n", millis(firstLoad - runtimeReady));
            out.printf("reload of the stock conf/ tree (warm), median of 30: %.1f ms%n", median(30,
                    () -> loader.load(stockRequest).ok()));
            LoadRequest siteRequest = LoadRequest.builder().loadPath(site).loadPath(stock).platform("test").build();
            out.printf("reload of a site tree (stock + local file, 4 milters, policy), median of 30: %.1f ms%n",
                    median(30, () -> loader.load(siteRequest).ok()));

            Configuration configuration = loader.load(siteRequest).configuration();
            Path trivialDirectory = Files.createTempDirectory("benchmark");
            try {
                Files.writeString(trivialDirectory.resolve("milter-manager.conf"), String.join("\n",
                        "define_applicable_condition(\"Trivial\") do |condition|",
                        "  condition.define_envelope_from_stopper {|context, from| false}",
                        "end", ""));
                Configuration trivial = loader.load(LoadRequest.builder().loadPath(trivialDirectory)
                        .platform("test").build()).configuration();
                stoppers(out, configuration, trivial.condition("Trivial"));
            } finally {
                Files.deleteIfExists(trivialDirectory.resolve("milter-manager.conf"));
                Files.deleteIfExists(trivialDirectory);
            }
        }
    }

    private static void stoppers(PrintStream out, Configuration configuration, ApplicableCondition trivial) {
        TestStopperContext context = new TestStopperContext("milter-greylist");
        ClientAddress remote = new ClientAddress(SocketFamily.INET, "203.0.113.7", 40125);
        ApplicableCondition s25r = configuration.condition("S25R");
        ApplicableCondition trust = configuration.condition("Trust");
        ApplicableCondition remoteNetwork = configuration.condition("Remote Network");
        ApplicableCondition authenticated = configuration.condition("Authenticated");
        ApplicableCondition guard = configuration.condition("Header Guard");

        measureCall(out, "trivial Ruby stopper {|context, from| false} (envelope-from)", false,
                () -> trivial.stopOnEnvelopeFrom(context, "<alice@example.com>"));
        measureCall(out, "S25R connect, generic name (blacklisted: applies)", false,
                () -> s25r.stopOnConnectAsync(context, "dsl-203-0-113-7.example.net", remote)
                        .toCompletableFuture().getNow(null));
        measureCall(out, "S25R connect, ordinary name (every rule tried: stops)", true,
                () -> s25r.stopOnConnectAsync(context, "mail.example.com", remote).toCompletableFuture().getNow(null));
        measureCall(out, "Trust envelope-from, untrusted domain", false,
                () -> trust.stopOnEnvelopeFrom(context, "<bob@example.net>"));
        measureCall(out, "Trust envelope-from, trusted domain (sets a macro)", false,
                () -> trust.stopOnEnvelopeFrom(context, "<bob@gmail.com>"));
        measureCall(out, "Remote Network connect, remote IPv4", false,
                () -> remoteNetwork.stopOnConnectAsync(context, "h", remote).toCompletableFuture().getNow(null));
        measureCall(out, "Authenticated envelope-from", true,
                () -> authenticated.stopOnEnvelopeFrom(context, "<alice@example.com>"));
        measureCall(out, "site Header Guard header stopper", false,
                () -> guard.stopOnHeader(context, "Subject", "quarterly report"));
    }

    private static void measureCall(PrintStream out, String name, boolean expected, BooleanSupplier call) {
        assertEquals(expected, call.getAsBoolean(), name);
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            call.getAsBoolean();
        }
        double best = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            long start = System.nanoTime();
            for (int i = 0; i < MEASURED_CALLS; i++) {
                call.getAsBoolean();
            }
            best = Math.min(best, (System.nanoTime() - start) / (double) MEASURED_CALLS);
        }
        out.printf("%-60s %8.0f ns/call%n", name, best);
    }

    private static double median(int times, BooleanSupplier action) {
        List<Long> durations = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            long start = System.nanoTime();
            assertTrue(action.getAsBoolean());
            durations.add(System.nanoTime() - start);
        }
        Collections.sort(durations);
        return durations.get(times / 2) / 1e6;
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
