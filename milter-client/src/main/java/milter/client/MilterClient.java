package milter.client;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannelRecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import milter.core.codec.CommandDecoder;
import milter.core.log.SessionIds;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;

/**
 * Listens for MTA connections on a {@link ConnectionSpec} and runs a {@link ClientSession} with a fresh
 * {@link Milter} on each. Build one with {@link #builder}, then {@link #start()} it; {@link #close()} stops
 * accepting, closes every connection, removes the UNIX socket (unless told not to) and shuts down the event loop
 * group if it created it.
 */
public final class MilterClient implements AutoCloseable {
    /** Default low water mark of the bytes waiting to be written to one MTA. */
    public static final int DEFAULT_WRITE_BUFFER_LOW_WATER_MARK = 32 * 1024;
    /** Default high water mark of the bytes waiting to be written to one MTA. */
    public static final int DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK = 64 * 1024;
    private final ConnectionSpec spec;
    private final MilterFactory factory;
    private final int unixSocketMode;
    private final String unixSocketGroup;
    private final boolean removeUnixSocketOnCreate;
    private final boolean removeUnixSocketOnClose;
    private final int maxConnections;
    private final Duration suspendTime;
    private final Duration idleTimeout;
    private final WriteBufferWaterMark writeBufferWaterMark;
    private final IllegalCommandPolicy illegalCommandPolicy;
    private final Transport transport;
    private final EventLoopGroup group;
    private final boolean ownGroup;

    private final AtomicInteger processing = new AtomicInteger();
    private final AtomicLong finished = new AtomicLong();
    private final ChannelGroup connections = new DefaultChannelGroup("milter-client", GlobalEventExecutor.INSTANCE);
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private final Object lifecycle = new Object();
    private volatile Channel serverChannel;
    private volatile SocketAddress boundAddress;
    private volatile boolean startCalled;
    private volatile boolean closeCalled;

    private MilterClient(Builder builder) {
        this.spec = builder.spec;
        this.factory = builder.factory;
        this.unixSocketMode = builder.unixSocketMode;
        this.unixSocketGroup = builder.unixSocketGroup;
        this.removeUnixSocketOnCreate = builder.removeUnixSocketOnCreate;
        this.removeUnixSocketOnClose = builder.removeUnixSocketOnClose;
        this.maxConnections = builder.maxConnections;
        this.suspendTime = builder.suspendTime;
        this.idleTimeout = builder.idleTimeout;
        this.writeBufferWaterMark = new WriteBufferWaterMark(builder.writeBufferLowWaterMark,
                builder.writeBufferHighWaterMark);
        this.illegalCommandPolicy = builder.illegalCommandPolicy;
        this.transport = builder.transport;
        this.ownGroup = builder.group == null;
        this.group = ownGroup ? transport.newEventLoopGroup(builder.threads, "milter-client") : builder.group;
    }

    /** Starts a builder for a listener on {@code spec} whose connections get milters from {@code factory}. */
    public static Builder builder(ConnectionSpec spec, MilterFactory factory) {
        return new Builder(spec, factory);
    }

    /**
     * Binds and starts accepting. The stage completes with the bound address (the real port when the spec said
     * port 0; a {@link UnixDomainSocketAddress} for UNIX sockets) or fails when binding failed.
     */
    public CompletionStage<SocketAddress> start() {
        synchronized (lifecycle) {
            if (startCalled || closeCalled) {
                return CompletableFuture.failedFuture(new IllegalStateException("start() may be called once"));
            }
            startCalled = true;
        }
        CompletableFuture<SocketAddress> result = new CompletableFuture<>();
        SocketAddress address;
        try {
            address = transport.socketAddress(spec);
            if (spec instanceof ConnectionSpec.Unix unix) {
                if (removeUnixSocketOnCreate) {
                    Files.deleteIfExists(unix.path());
                } else if (Files.exists(unix.path(), LinkOption.NOFOLLOW_LINKS)) {
                    // The native transport would silently replace the file; upstream's bind(2) refuses.
                    BindException inUse = new BindException("Address already in use: " + unix.path());
                    TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][prepare][listen][error]",
                            "failed to listen: <" + spec + ">: " + inUse.getMessage());
                    result.completeExceptionally(inUse);
                    return result;
                }
            }
        } catch (IOException | RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][prepare][error]", "<" + spec + ">: " + e);
            result.completeExceptionally(e);
            return result;
        }
        boolean inet = spec instanceof ConnectionSpec.Inet;
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass(spec))
                .handler(new AcceptHandler(this))
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, writeBufferWaterMark)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        initConnection(channel);
                    }
                });
        if (inet) {
            bootstrap.option(ChannelOption.SO_REUSEADDR, true);
            bootstrap.childOption(ChannelOption.TCP_NODELAY, true);
        }
        if (maxConnections > 0) {
            // Accept one connection per read so the limit is checked between two accepts.
            bootstrap.option(ChannelOption.RECVBUF_ALLOCATOR, new ServerChannelRecvByteBufAllocator()
                    .maxMessagesPerRead(1));
        }
        ChannelFuture bind = bootstrap.bind(address);
        bind.addListener(future -> {
            if (!future.isSuccess()) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][prepare][listen][error]",
                        "failed to listen: <" + spec + ">: " + future.cause().getMessage());
                result.completeExceptionally(future.cause());
                return;
            }
            serverChannel = bind.channel();
            boundAddress = normalize(serverChannel.localAddress());
            if (spec instanceof ConnectionSpec.Unix unix) {
                changeUnixSocket(unix.path());
            }
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[client][listen][start]", "<" + boundSpec() + ">");
            result.complete(boundAddress);
        });
        return result;
    }

    private void initConnection(Channel channel) {
        if (closeCalled) {
            channel.close();
            return;
        }
        long sessionId = SessionIds.next();
        long idleMillis = idleTimeout.toMillis();
        channel.pipeline().addLast("decoder", new CommandDecoder());
        if (idleMillis > 0) {
            // After the decoder: only whole commands (and our replies) count as activity, so an MTA that trickles
            // a frame a byte at a time is as idle as a silent one.
            channel.pipeline().addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
        }
        channel.pipeline().addLast("session", new ClientSession(sessionId, factory, illegalCommandPolicy,
                idleMillis));
    }

    /** Called by the accept handler for every accepted connection, before it is registered. */
    int accepted(Channel child) {
        int now = processing.incrementAndGet();
        connections.add(child);
        child.closeFuture().addListener(future -> {
            int left = processing.decrementAndGet();
            long total = finished.incrementAndGet();
            TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[sessions][finished]", total + "(+1) " + left);
        });
        // A connection accepted while closing is closed once registered (initConnection): closing it here, before
        // Netty has registered it, would fail and leave it open, holding its descriptor and the close.
        return now;
    }

    private void changeUnixSocket(Path path) {
        if (unixSocketMode >= 0) {
            try {
                Files.setPosixFilePermissions(path, permissions(unixSocketMode));
                TaggedLogger.info(TaggedLogger.NO_SESSION, "[client][socket][unix][mode][change]",
                        "<" + formatMode(unixSocketMode) + ">: <" + path + ">");
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][error][unix]", "failed to change the mode of"
                        + " the UNIX domain socket: <" + formatMode(unixSocketMode) + ">: <" + path + ">: " + e);
            }
        }
        if (unixSocketGroup != null && !unixSocketGroup.isEmpty()) {
            try {
                GroupPrincipal principal = path.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(unixSocketGroup);
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setGroup(principal);
                Object gid = Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                TaggedLogger.info(TaggedLogger.NO_SESSION, "[client][socket][unix][group][change]",
                        "<" + unixSocketGroup + ">(<" + gid + ">): <" + path + ">");
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][error][unix]", "failed to change the group of"
                        + " the UNIX domain socket: <" + unixSocketGroup + ">: <" + path + ">: " + e);
            }
        }
    }

    /** The address bound by {@link #start()}, or null before. */
    public SocketAddress boundAddress() {
        return boundAddress;
    }

    /** The spec with the real port when port 0 was asked for. */
    public ConnectionSpec boundSpec() {
        if (spec instanceof ConnectionSpec.Inet inet && boundAddress instanceof InetSocketAddress bound) {
            return new ConnectionSpec.Inet(inet.ipv6(), bound.getPort(), inet.host(), inet.literal());
        }
        return spec;
    }

    /** Connections being processed now. */
    public int processingSessions() {
        return processing.get();
    }

    /** Connections that have ended since start. */
    public long finishedSessions() {
        return finished.get();
    }

    /** Completes when {@link #closeAsync()} has finished. */
    public CompletionStage<Void> closeFuture() {
        return closeFuture;
    }

    int maxConnections() {
        return maxConnections;
    }

    Duration suspendTime() {
        return suspendTime;
    }

    Channel serverChannel() {
        return serverChannel;
    }

    /**
     * Stops accepting, closes every connection (each milter gets {@link Milter#closed}), removes the UNIX socket
     * if so configured and shuts down the event loop group if this client created it. Idempotent.
     */
    public CompletionStage<Void> closeAsync() {
        return closeAsync(Duration.ZERO);
    }

    /**
     * Stops accepting at once, lets the connections in progress finish for up to {@code grace}, then closes
     * whatever is left as {@link #closeAsync()} does. Idempotent (the first call's grace applies).
     */
    public CompletionStage<Void> closeAsync(Duration grace) {
        synchronized (lifecycle) {
            if (closeCalled) {
                return closeFuture;
            }
            closeCalled = true;
        }
        Channel server = serverChannel;
        Path socket = spec instanceof ConnectionSpec.Unix unix && server != null ? unix.path() : null;
        // Netty removes the socket file when it closes the channel; keeping it takes a second name for a moment.
        Path keep = null;
        if (socket != null && !removeUnixSocketOnClose) {
            keep = socket.resolveSibling(socket.getFileName() + ".keep-" + ProcessHandle.current().pid());
            try {
                Files.deleteIfExists(keep);
                Files.createLink(keep, socket);
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][unix][error]",
                        "failed to keep the UNIX domain socket: <" + socket + ">: " + e);
                keep = null;
            }
        }
        Path kept = keep;
        CompletableFuture<Void> serverClosed = new CompletableFuture<>();
        if (server == null) {
            serverClosed.complete(null);
        } else {
            server.close().addListener(future -> serverClosed.complete(null));
        }
        serverClosed
                .thenCompose(ignored -> {
                    cleanUpSocket(socket, kept);
                    return drained(grace);
                })
                .thenCompose(ignored -> {
                    CompletableFuture<Void> all = new CompletableFuture<>();
                    connections.close().addListener(future -> all.complete(null));
                    return all;
                })
                .thenCompose(ignored -> {
                    CompletableFuture<Void> down = new CompletableFuture<>();
                    if (ownGroup) {
                        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).addListener(future -> down.complete(null));
                    } else {
                        down.complete(null);
                    }
                    return down;
                })
                .whenComplete((ignored, error) -> closeFuture.complete(null));
        return closeFuture;
    }

    /** Completes when every open connection has closed by itself, or when {@code grace} has passed. */
    private CompletableFuture<Void> drained(Duration grace) {
        CompletableFuture<Void> drained = new CompletableFuture<>();
        if (grace.isZero() || grace.isNegative() || connections.isEmpty()) {
            drained.complete(null);
            return drained;
        }
        connections.newCloseFuture().addListener(future -> drained.complete(null));
        group.next().schedule(() -> drained.complete(null), grace.toMillis(), TimeUnit.MILLISECONDS);
        return drained;
    }

    private void cleanUpSocket(Path socket, Path kept) {
        if (socket == null) {
            return;
        }
        try {
            if (kept != null) {
                Files.move(kept, socket, StandardCopyOption.REPLACE_EXISTING);
            } else if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(socket);
            }
        } catch (IOException | RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][unix][error]",
                    "failed to " + (kept != null ? "restore" : "remove") + " the UNIX domain socket: <" + socket
                            + ">: " + e);
            // Only a started client has a socket to clean up, so this is always the successful run's clean-up.
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][run][success][cleanup][error]",
                    "failed to cleanup: " + e);
        }
    }

    /** {@link #closeAsync()} and wait for it (at most 30 seconds). Never call it on an event loop thread. */
    @Override
    public void close() {
        try {
            closeAsync().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][error]", "failed to close: " + e);
        }
    }

    private static SocketAddress normalize(SocketAddress address) {
        if (address instanceof DomainSocketAddress domain) {
            return UnixDomainSocketAddress.of(domain.path());
        }
        return address;
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }

    /** {@code 0660}, as C's {@code %#o}. */
    static String formatMode(int mode) {
        return mode == 0 ? "0" : "0" + Integer.toOctalString(mode);
    }

    /** Whole seconds as an integer, otherwise as a plain decimal. */
    static String formatSeconds(long millis) {
        if (millis % 1000 == 0) {
            return Long.toString(millis / 1000);
        }
        return BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString();
    }

    /** Options of a {@link MilterClient}; defaults follow upstream. */
    public static final class Builder {
        private final ConnectionSpec spec;
        private final MilterFactory factory;
        private int unixSocketMode = 0660;
        private String unixSocketGroup;
        private boolean removeUnixSocketOnCreate = true;
        private boolean removeUnixSocketOnClose = true;
        private int maxConnections;
        private Duration suspendTime = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofSeconds(7210);
        private int writeBufferLowWaterMark = DEFAULT_WRITE_BUFFER_LOW_WATER_MARK;
        private int writeBufferHighWaterMark = DEFAULT_WRITE_BUFFER_HIGH_WATER_MARK;
        private IllegalCommandPolicy illegalCommandPolicy = IllegalCommandPolicy.CONTINUE;
        private Transport transport = Transport.best();
        private EventLoopGroup group;
        private int threads;

        private Builder(ConnectionSpec spec, MilterFactory factory) {
            this.spec = Objects.requireNonNull(spec, "spec");
            this.factory = Objects.requireNonNull(factory, "factory");
        }

        /** Permission bits of a UNIX socket (default {@code 0660}); negative leaves them as created. */
        public Builder unixSocketMode(int mode) {
            if (mode > 07777) {
                throw new IllegalArgumentException("invalid UNIX socket mode: " + formatMode(mode));
            }
            this.unixSocketMode = mode;
            return this;
        }

        /** Group of a UNIX socket (default: unchanged). */
        public Builder unixSocketGroup(String group) {
            this.unixSocketGroup = group;
            return this;
        }

        /** Remove an existing file at the UNIX socket path before binding (default true). */
        public Builder removeUnixSocketOnCreate(boolean remove) {
            this.removeUnixSocketOnCreate = remove;
            return this;
        }

        /** Remove the UNIX socket when closing (default true). */
        public Builder removeUnixSocketOnClose(boolean remove) {
            this.removeUnixSocketOnClose = remove;
            return this;
        }

        /** Connections processed at once before accepting pauses; 0 (default) is unlimited. */
        public Builder maxConnections(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("max connections must not be negative: " + max);
            }
            this.maxConnections = max;
            return this;
        }

        /** How long accepting pauses when the connection limit is reached or no file descriptor is left (5 s). */
        public Builder suspendTime(Duration time) {
            if (time.isNegative() || time.isZero()) {
                throw new IllegalArgumentException("suspend time must be positive: " + time);
            }
            this.suspendTime = time;
            return this;
        }

        /**
         * Replies waiting for a slow MTA beyond {@code high} bytes pause the connection (no further commands are
         * read or processed) until fewer than {@code low} bytes wait (defaults 32 KiB and 64 KiB).
         */
        public Builder writeBufferWaterMark(int low, int high) {
            if (low < 1 || high < low) {
                throw new IllegalArgumentException("write buffer water marks must satisfy 0 < low <= high: " + low
                        + ", " + high);
            }
            this.writeBufferLowWaterMark = low;
            this.writeBufferHighWaterMark = high;
            return this;
        }

        /**
         * How long the MTA may go without completing a command before the connection is closed (7210 s): bytes of
         * an unfinished frame do not count. Zero disables it.
         */
        public Builder idleTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("idle timeout must not be negative: " + timeout);
            }
            this.idleTimeout = timeout;
            return this;
        }

        /** What to do with commands that may not come in the current state (default: answer continue). */
        public Builder illegalCommandPolicy(IllegalCommandPolicy policy) {
            this.illegalCommandPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** The socket implementation (default {@link Transport#best()}); must match an external group. */
        public Builder transport(Transport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /**
         * Runs on an existing event loop group (of {@link #transport}'s kind), which {@link #close()} leaves
         * running. Without one the client creates its own.
         */
        public Builder eventLoopGroup(EventLoopGroup group) {
            this.group = group;
            return this;
        }

        /** Threads of the client's own event loop group; 0 (default) is one per core. */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public MilterClient build() {
            return new MilterClient(this);
        }
    }
}
