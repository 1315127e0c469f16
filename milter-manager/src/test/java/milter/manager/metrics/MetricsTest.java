package milter.manager.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.function.UnaryOperator;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.MilterClient;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.manager.MilterManager;
import milter.manager.ServerChildConnector;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The metrics endpoint in front of a real manager with two real child milters (one rejects a recipient, one never
 * answers HELO): values are scraped before and after sessions and must have moved as the sessions went.
 */
class MetricsTest {
    private static final Option OFFER = new Option(6, ActionFlags.ALL, ProtocolFlags.ALL);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();

    private MilterClient strict;
    private MilterClient slow;
    private MilterManager manager;
    private MetricsServer server;
    private ManagerMetrics metrics;
    private Configuration configuration;
    private volatile boolean listening;

    /** Rejects one recipient; everything else continues. */
    private static final class Strict implements Milter {
        @Override
        public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient recipient) {
            return Milter.reply(recipient.address().contains("bad") ? Reply.Reject.INSTANCE : Reply.Continue.INSTANCE);
        }
    }

    /** Never answers HELO: the manager's reading timeout drops it. */
    private static final class Slow implements Milter {
        @Override
        public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
            return new CompletableFuture<>();
        }
    }

    @BeforeEach
    void start() throws Exception {
        strict = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), context -> new Strict()).threads(1)
                .build();
        strict.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        slow = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), context -> new Slow()).threads(1)
                .build();
        slow.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        configuration = Configuration.builder()
                .egg(Egg.of("strict", strict.boundSpec()))
                .egg(Egg.builder("slow").connectionSpec(slow.boundSpec()).readingTimeout(0.3).build())
                .build();
        metrics = new ManagerMetrics(() -> manager == null ? 0 : manager.sessions().processing());
        metrics.configure(configuration);
        ManagerMetrics meters = metrics;
        UnaryOperator<milter.client.MilterFactory> sessions = factory -> Metrics.meter(factory, meters);
        manager = new MilterManager(configuration, ConnectionSpec.parse("inet:0@[127.0.0.1]"), Transport.best(), 1,
                Metrics.meter(new ServerChildConnector(Transport.best()), metrics), sessions);
        manager.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        listening = true;
        server = MetricsServer.listen(ConnectionSpec.parse("inet:0@[127.0.0.1]"), Transport.best(), metrics,
                () -> new HealthReport(listening, 2, metrics.childrenAnsweredWithin(configuration,
                        TimeUnit.MINUTES.toNanos(5)), 300));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (manager != null) {
            manager.close();
        }
        strict.close();
        slow.close();
    }

    private HttpResponse<String> get(String path, String accept) throws Exception {
        ConnectionSpec.Inet spec = (ConnectionSpec.Inet) server.boundSpec();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.port() + path))
                .timeout(Duration.ofSeconds(30));
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape() throws Exception {
        HttpResponse<String> response = get("/metrics", null);
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"),
                response.headers().toString());
        return response.body();
    }

    /** The value of one series ({@code name} or {@code name{labels}}), 0 when absent. */
    private static double value(String scrape, String series) {
        Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
    }

    private void session(String recipient, int bodyBytes) throws Exception {
        try (FakeMta mta = FakeMta.connect(manager.boundSpec().toString())) {
            mta.negotiate(OFFER);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("mx.example.net", SocketFamily.INET,
                    25000, "192.0.2.1")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("mx.example.net")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<from@example.org>")));
            Reply verdict = mta.call(new Command.EnvelopeRecipient(recipient));
            if (verdict instanceof Reply.Reject) {
                mta.send(Command.Quit.INSTANCE);
                assertTrue(mta.awaitClose());
                return;
            }
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.Data.INSTANCE));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Header("Subject", "metrics")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Command.EndOfHeader.INSTANCE));
            for (int sent = 0; sent < bodyBytes; sent += 65535) {
                byte[] chunk = new byte[Math.min(65535, bodyBytes - sent)];
                java.util.Arrays.fill(chunk, (byte) 'x');
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Body(Unpooled.wrappedBuffer(chunk))));
            }
            assertEquals(Reply.Continue.INSTANCE, mta.endOfMessage().get(0));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
        }
    }

    /** Sessions end on the manager's event loop after the MTA sees the close: wait for the count, no sleeping. */
    private String scrapeUntil(String series, double atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String scrape = scrape();
        while (value(scrape, series) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(series + " never reached " + atLeast + ":\n" + scrape);
            }
            Thread.onSpinWait();
            scrape = scrape();
        }
        return scrape;
    }

    @Test
    void valuesMoveAsSessionsRun() throws Exception {
        String before = scrape();
        assertEquals(0, value(before, "milter_manager_sessions_started_total"));
        assertEquals(0, value(before, "milter_manager_sessions_open"));

        session("<bad@example.com>", 0);
        session("<good@example.com>", 1000);
        scrapeUntil("milter_manager_sessions_finished_total{stage=\"end-of-message\",status=\"pass\"}", 1);
        String after = scrapeUntil("milter_manager_session_duration_seconds_count", 2);

        assertEquals(2, value(after, "milter_manager_sessions_started_total"));
        assertEquals(1, value(after,
                "milter_manager_sessions_finished_total{stage=\"envelope-recipient\",status=\"reject\"}"));
        assertEquals(0, value(after, "milter_manager_sessions_open"));
        assertEquals(1, value(after, "milter_manager_child_replies_total{milter=\"strict\",status=\"reject\"}"));
        assertTrue(value(after, "milter_manager_child_replies_total{milter=\"strict\",status=\"continue\"}") >= 6,
                after);
        assertEquals(2, value(after,
                "milter_manager_child_errors_total{kind=\"reading-timeout\",milter=\"slow\"}"));
        assertEquals(2, value(after, "milter_manager_stage_duration_seconds_count{stage=\"helo\"}"));
        assertEquals(1, value(after, "milter_manager_stage_duration_seconds_count{stage=\"end-of-message\"}"));
        assertTrue(value(after, "milter_manager_stage_duration_seconds_sum{stage=\"helo\"}") > 0, after);
        assertEquals(2, value(after, "milter_manager_session_duration_seconds_count"));
        assertEquals(1000, value(after, "milter_manager_body_bytes_total"));
        assertTrue(after.contains("milter_manager_child_last_answer_age_seconds{milter=\"strict\"}"), after);
    }

    @Test
    void aLargeBodyMovingToATemporaryFileIsCounted() throws Exception {
        double before = value(scrape(), "milter_manager_body_temporary_files_total");
        session("<good@example.com>", 6 * 1024 * 1024);
        String after = scrapeUntil("milter_manager_sessions_finished_total{stage=\"end-of-message\",status=\"pass\"}",
                1);
        assertEquals(before + 1, value(after, "milter_manager_body_temporary_files_total"));
        assertEquals(6 * 1024 * 1024, value(after, "milter_manager_body_bytes_total"));
    }

    @Test
    void pingSaysWhetherTheListenerIsUpAndWhichChildrenAnswered() throws Exception {
        HttpResponse<String> idle = get("/ping", null);
        assertEquals(200, idle.statusCode());
        assertEquals("{\"status\":\"up\",\"listener\":\"up\",\"children\":2,\"children_answered_recently\":0,"
                + "\"window_seconds\":300}\n", idle.body());
        session("<good@example.com>", 10);
        assertTrue(get("/ping", null).body().contains("\"children_answered_recently\":2"));
        listening = false;
        HttpResponse<String> down = get("/ping", null);
        assertEquals(503, down.statusCode());
        assertTrue(down.body().startsWith("{\"status\":\"down\",\"listener\":\"down\""), down.body());
    }

    @Test
    void openMetricsOnRequestAndPlainErrorsForOtherRequests() throws Exception {
        HttpResponse<String> open = get("/metrics", "application/openmetrics-text; version=1.0.0");
        assertTrue(open.headers().firstValue("content-type").orElse("").startsWith("application/openmetrics-text"),
                open.headers().toString());
        assertTrue(open.body().endsWith("# EOF\n"), open.body());
        assertEquals(404, get("/nowhere", null).statusCode());
        ConnectionSpec.Inet spec = (ConnectionSpec.Inet) server.boundSpec();
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + spec.port()
                + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    @Test
    void aSpecWithoutHostListensOnLoopbackAndOnlyTcpIsAccepted() throws Exception {
        try (MetricsServer loopback = MetricsServer.listen(ConnectionSpec.parse("inet:0"), Transport.best(), metrics,
                () -> new HealthReport(true, 0, 0, 300))) {
            assertTrue(loopback.boundSpec().toString().matches("inet:[1-9]\\d*@\\[127\\.0\\.0\\.1\\]"),
                    loopback.boundSpec().toString());
        }
        java.io.IOException unix = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> MetricsServer.listen(ConnectionSpec.parse("unix:/tmp/metrics.sock"), Transport.best(), metrics,
                        () -> new HealthReport(true, 0, 0, 300)));
        assertEquals("metrics spec should be inet:PORT@HOST or inet6:PORT@HOST: <unix:/tmp/metrics.sock>",
                unix.getMessage());
    }
}
