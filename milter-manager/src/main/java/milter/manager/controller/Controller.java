package milter.manager.controller;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import milter.core.log.SessionIds;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.Setting;

/**
 * The control socket ({@code controller.connection_spec}): accepts connections speaking upstream's control
 * protocol and answers {@code get-configuration}, {@code set-configuration}, {@code reload}, {@code get-status}
 * and {@code stop-child} through {@link ControllerActions}. It has its own one-thread event loop and one worker
 * thread for the requests, so neither the sessions' event loops nor the signal handlers wait for it. UNIX
 * sockets get {@code controller.unix_socket_mode} and {@code controller.unix_socket_group}, and are removed
 * before binding and after closing as {@code controller.remove_unix_socket_on_create/_on_close} say.
 */
public final class Controller implements AutoCloseable {
    private final ConnectionSpec spec;
    private final int unixSocketMode;
    private final String unixSocketGroup;
    private final boolean removeOnCreate;
    private final boolean removeOnClose;
    private final int maxPayload;
    private final Transport transport;
    private final ControllerActions actions;
    private final EventLoopGroup group;
    private final ExecutorService worker;
    private final ChannelGroup connections = new DefaultChannelGroup("controller", GlobalEventExecutor.INSTANCE);
    private Channel server;
    private SocketAddress boundAddress;
    private boolean closed;

    private Controller(ConnectionSpec spec, Configuration configuration, Transport transport,
            ControllerActions actions, int maxPayload) {
        this.spec = spec;
        this.unixSocketMode = configuration.integer(Setting.CONTROLLER_UNIX_SOCKET_MODE);
        this.unixSocketGroup = configuration.string(Setting.CONTROLLER_UNIX_SOCKET_GROUP);
        this.removeOnCreate = configuration.bool(Setting.CONTROLLER_REMOVE_UNIX_SOCKET_ON_CREATE);
        this.removeOnClose = configuration.bool(Setting.CONTROLLER_REMOVE_UNIX_SOCKET_ON_CLOSE);
        this.transport = transport;
        this.actions = actions;
        this.maxPayload = maxPayload;
        this.group = transport.newEventLoopGroup(1, "milter-manager-controller-io");
        this.worker = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "milter-manager-controller");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * Starts the controller that {@code configuration} asks for. Without {@code controller.connection_spec}
     * logs {@code [controller][disabled] connection spec isn't specified} and returns null.
     *
     * @throws IOException when it cannot listen (logged as {@code [controller][error][listen] <SPEC>: ERROR})
     */
    public static Controller listen(Configuration configuration, Transport transport, ControllerActions actions)
            throws IOException {
        return listen(configuration, transport, actions, Integer.getInteger("milter.manager.controller.max-packet-size",
                ControlCodec.DEFAULT_MAX_PAYLOAD));
    }

    static Controller listen(Configuration configuration, Transport transport, ControllerActions actions,
            int maxPayload) throws IOException {
        ConnectionSpec spec = configuration.spec(Setting.CONTROLLER_CONNECTION_SPEC);
        if (spec == null) {
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[controller][disabled]", "connection spec isn't specified");
            return null;
        }
        Controller controller = new Controller(spec, configuration, transport, actions, maxPayload);
        try {
            controller.bind();
            return controller;
        } catch (IOException | RuntimeException e) {
            controller.shutdownThreads();
            String reason = e.getMessage() == null ? e.toString() : e.getMessage();
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][listen]", "<" + spec + ">: " + reason);
            throw e instanceof IOException io ? io : new IOException(reason, e);
        }
    }

    private void bind() throws IOException {
        if (spec instanceof ConnectionSpec.Unix unix) {
            if (removeOnCreate) {
                Files.deleteIfExists(unix.path());
            } else if (Files.exists(unix.path(), LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("Address already in use: " + unix.path());
            }
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass(spec))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        accepted(channel);
                    }
                });
        if (spec instanceof ConnectionSpec.Inet) {
            bootstrap.option(ChannelOption.SO_REUSEADDR, true);
        }
        try {
            server = bootstrap.bind(transport.socketAddress(spec)).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding", e);
        } catch (Exception e) {
            // Netty rethrows the bind failure itself (a checked exception not declared by sync()).
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        boundAddress = server.localAddress();
        if (spec instanceof ConnectionSpec.Unix unix) {
            changeUnixSocket(unix.path());
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[controller][listen][start]", "<" + boundSpec() + ">");
    }

    private void accepted(Channel channel) {
        long tag = SessionIds.next();
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[controller][accept]", () -> "[" + tag + "]: "
                + channel.remoteAddress());
        connections.add(channel);
        channel.pipeline().addLast("frames", new ControlFrameDecoder(maxPayload));
        channel.pipeline().addLast("session", new ControllerSession(tag, actions, worker));
    }

    private void changeUnixSocket(Path path) {
        try {
            Files.setPosixFilePermissions(path, permissions(unixSocketMode));
        } catch (IOException | RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][unix]", "failed to change the mode of"
                    + " UNIX socket: " + path + "(0" + Integer.toOctalString(unixSocketMode) + "): " + e);
        }
        if (unixSocketGroup != null && !unixSocketGroup.isEmpty()) {
            try {
                GroupPrincipal principal = path.getFileSystem().getUserPrincipalLookupService()
                        .lookupPrincipalByGroupName(unixSocketGroup);
                Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setGroup(principal);
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][unix]", "failed to change UNIX"
                        + " socket group: <" + path + ">: <" + unixSocketGroup + ">: " + e);
            }
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values();
        // values() runs OWNER_READ ... OTHERS_EXECUTE, i.e. from bit 8 down to bit 0.
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (8 - i))) != 0) {
                set.add(bits[i]);
            }
        }
        return set;
    }

    /** The spec with the real port when port 0 was asked for. */
    public ConnectionSpec boundSpec() {
        if (spec instanceof ConnectionSpec.Inet inet && boundAddress instanceof InetSocketAddress bound) {
            return new ConnectionSpec.Inet(inet.ipv6(), bound.getPort(), inet.host(), inet.literal());
        }
        return spec;
    }

    /** Stops listening, closes the connections, removes the UNIX socket if so configured. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Path socket = spec instanceof ConnectionSpec.Unix unix ? unix.path() : null;
        // Netty's native transport unlinks the socket when it closes the channel; keeping it needs a second name.
        Path kept = null;
        if (socket != null && !removeOnClose) {
            kept = socket.resolveSibling(socket.getFileName() + ".keep-" + ProcessHandle.current().pid());
            try {
                Files.deleteIfExists(kept);
                Files.createLink(kept, socket);
            } catch (IOException | RuntimeException e) {
                kept = null;
            }
        }
        if (server != null) {
            server.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        shutdownThreads();
        if (socket != null) {
            try {
                if (kept != null) {
                    Files.move(kept, socket, StandardCopyOption.REPLACE_EXISTING);
                } else if (removeOnClose) {
                    Files.deleteIfExists(socket);
                }
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][unix]",
                        "failed to remove used UNIX socket: " + socket + ": " + e.getMessage());
            }
        }
    }

    private void shutdownThreads() {
        worker.shutdown();
        try {
            if (!worker.awaitTermination(10, TimeUnit.SECONDS)) {
                worker.shutdownNow();
            }
        } catch (InterruptedException e) {
            worker.shutdownNow();
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
