package milter.manager;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import milter.client.MilterClient;
import milter.client.MilterFactory;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.Setting;

/**
 * The running manager: listens for MTA connections and gives each one a {@link Leader} over the configuration
 * snapshot current at accept time. {@link #reload} swaps the snapshot for sessions that start later; running
 * sessions keep theirs.
 */
public final class MilterManager implements AutoCloseable {
    private final AtomicReference<Configuration> configuration;
    private final SessionCounter counter = new SessionCounter();
    private final MilterClient client;

    public MilterManager(Configuration initial, ConnectionSpec spec, Transport transport, int threads) {
        this(initial, spec, transport, threads, new ServerChildConnector(transport));
    }

    public MilterManager(Configuration initial, ConnectionSpec spec, Transport transport, int threads,
            ChildConnector connector) {
        this(initial, spec, transport, threads, connector, UnaryOperator.identity());
    }

    /**
     * @param decorator wraps the factory of the sessions' milters (the metrics count sessions around the leader)
     */
    public MilterManager(Configuration initial, ConnectionSpec spec, Transport transport, int threads,
            ChildConnector connector, UnaryOperator<MilterFactory> decorator) {
        this.configuration = new AtomicReference<>(initial);
        MilterFactory leaders = context -> new Leader(context, configuration.get(), connector, counter);
        MilterClient.Builder builder = MilterClient.builder(spec, decorator.apply(leaders))
                .transport(transport)
                .unixSocketMode(initial.integer(Setting.MANAGER_UNIX_SOCKET_MODE))
                .removeUnixSocketOnCreate(initial.bool(Setting.MANAGER_REMOVE_UNIX_SOCKET_ON_CREATE))
                .removeUnixSocketOnClose(initial.bool(Setting.MANAGER_REMOVE_UNIX_SOCKET_ON_CLOSE))
                .maxConnections(initial.integer(Setting.MANAGER_MAX_CONNECTIONS))
                .suspendTime(Duration.ofSeconds(Math.max(0, initial.integer(
                        Setting.MANAGER_SUSPEND_TIME_ON_UNACCEPTABLE))));
        String group = initial.string(Setting.MANAGER_UNIX_SOCKET_GROUP);
        if (group != null) {
            builder.unixSocketGroup(group);
        }
        if (threads > 0) {
            builder.threads(threads);
        }
        this.client = builder.build();
    }

    /** Starts listening; completes with the bound address. */
    public CompletionStage<SocketAddress> start() {
        return client.start();
    }

    public ConnectionSpec boundSpec() {
        return client.boundSpec();
    }

    public Configuration configuration() {
        return configuration.get();
    }

    /** Sessions accepted from now on use {@code next}. */
    public void reload(Configuration next) {
        configuration.set(next);
    }

    public SessionCounter sessions() {
        return counter;
    }

    public CompletionStage<Void> closeFuture() {
        return client.closeFuture();
    }

    /** Stops accepting, gives running sessions up to {@code grace} to finish, then closes the rest. */
    public CompletionStage<Void> closeGracefully(Duration grace) {
        return client.closeAsync(grace);
    }

    @Override
    public void close() {
        client.close();
    }
}
