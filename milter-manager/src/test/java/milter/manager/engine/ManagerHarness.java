package milter.manager.engine;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import milter.core.log.LogLevels;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.MilterManager;
import milter.manager.condition.ApplicableCondition;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.testing.mta.FakeMta;

/**
 * A manager on loopback with scripted children behind it, as engine tests use it: children are defined in egg
 * order, the manager listens on a free port, and {@link #mta()} connects a fake MTA to it. Every tagged log line
 * is captured ({@link #log()}). On close everything stops, and the harness fails the test if a scripted child's
 * protocol state machine saw a command order libmilter would not accept (the manager must never send one).
 */
final class ManagerHarness implements AutoCloseable {
    private final EventLoopGroup childGroup = Transport.best().newEventLoopGroup(1, "test-children");
    private final LogCapture log;
    private final Map<String, ScriptedChild> children = new LinkedHashMap<>();
    private final Map<String, ConnectionSpec> externalSpecs = new LinkedHashMap<>();
    private final Map<String, UnaryOperator<Egg.Builder>> eggOptions = new LinkedHashMap<>();
    private final List<String> eggOrder = new ArrayList<>();
    private final List<ApplicableCondition> conditions = new ArrayList<>();
    private final List<FakeMta> mtas = new ArrayList<>();
    private final List<java.io.Closeable> resources = new ArrayList<>();
    private Consumer<Configuration.Builder> settings = builder -> { };
    private MilterManager manager;

    ManagerHarness() {
        this(LogLevels.ALL);
    }

    ManagerHarness(int logLevels) {
        this.log = new LogCapture(logLevels);
    }

    ScriptedChild child(String name) {
        ScriptedChild child = new ScriptedChild(name, childGroup).start();
        children.put(name, child);
        eggOrder.add(name);
        return child;
    }

    ScriptedChild child(String name, UnaryOperator<Egg.Builder> options) {
        eggOptions.put(name, options);
        return child(name);
    }

    /** An egg reached at a given spec (a real libmilter milter, or nothing at all). */
    void external(String name, ConnectionSpec spec, UnaryOperator<Egg.Builder> options) {
        externalSpecs.put(name, spec);
        eggOptions.put(name, options);
        eggOrder.add(name);
    }

    /** An egg whose child is not listening: its port was bound and closed again (connection refused). */
    void refusingChild(String name, UnaryOperator<Egg.Builder> options) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        external(name, ConnectionSpec.parse("inet:" + port + "@[127.0.0.1]"), options);
    }

    /**
     * An egg whose listener never accepts and whose accept queue is full, so that connecting to it never completes
     * (the kernel drops the SYNs): the connection timeout decides.
     */
    void unreachableChild(String name, UnaryOperator<Egg.Builder> options) throws IOException {
        ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        resources.add(listener);
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort());
        for (int i = 0; i < 16; i++) {
            Socket filler = new Socket();
            resources.add(filler);
            try {
                filler.connect(address, 300);
            } catch (SocketTimeoutException e) {
                break;
            }
        }
        external(name, ConnectionSpec.parse("inet:" + listener.getLocalPort() + "@[127.0.0.1]"), options);
    }

    ManagerHarness condition(ApplicableCondition condition) {
        conditions.add(condition);
        return this;
    }

    ManagerHarness settings(Consumer<Configuration.Builder> change) {
        this.settings = change;
        return this;
    }

    ManagerHarness start() {
        Configuration.Builder builder = Configuration.builder();
        conditions.forEach(builder::condition);
        for (String name : eggOrder) {
            ScriptedChild child = children.get(name);
            ConnectionSpec spec = child != null ? child.spec() : externalSpecs.get(name);
            Egg.Builder egg = Egg.builder(name).connectionSpec(spec);
            UnaryOperator<Egg.Builder> options = eggOptions.get(name);
            builder.egg((options == null ? egg : options.apply(egg)).build());
        }
        settings.accept(builder);
        manager = new MilterManager(builder.build(), ConnectionSpec.parse("inet:0@[127.0.0.1]"), Transport.best(), 1);
        manager.start().toCompletableFuture().join();
        return this;
    }

    MilterManager manager() {
        return manager;
    }

    LogCapture log() {
        return log;
    }

    FakeMta mta() throws IOException {
        FakeMta mta = FakeMta.connect(manager.boundSpec().toString());
        mtas.add(mta);
        return mta;
    }

    /** The session id (log tag) of the {@code index}-th MTA connection the manager accepted. */
    long sessionId(int index) throws InterruptedException {
        List<LogCapture.Line> starts = log.awaitCount("\\[\\d+\\] \\[manager\\]\\[session\\]\\[start\\]", index + 1);
        String text = starts.get(index).text();
        return Long.parseLong(text.substring(1, text.indexOf(']')));
    }

    /** Waits until {@code count} MTA sessions have logged their {@code [session][end]} statistics line. */
    List<LogCapture.Line> awaitSessionEnds(int count) throws InterruptedException {
        return log.awaitCount("\\[session\\]\\[end\\].*", count);
    }

    @Override
    public void close() throws IOException {
        try {
            for (FakeMta mta : mtas) {
                mta.close();
            }
            if (manager != null) {
                manager.close();
            }
            for (ScriptedChild child : children.values()) {
                child.close();
            }
            childGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            for (java.io.Closeable resource : resources) {
                resource.close();
            }
            List<String> complaints = new ArrayList<>();
            for (ScriptedChild child : children.values()) {
                Set<Long> ids = child.sessionIds();
                for (LogCapture.Line line : log.lines()) {
                    for (Long id : ids) {
                        if (line.text().startsWith("[" + id + "] [client][error]")
                                && line.text().contains("[state][invalid]")) {
                            complaints.add(child.name + ": " + line.text());
                        }
                    }
                }
            }
            if (!complaints.isEmpty()) {
                throw new AssertionError("the manager sent a child a command its state does not allow:\n"
                        + String.join("\n", complaints));
            }
        } finally {
            log.close();
        }
    }
}
