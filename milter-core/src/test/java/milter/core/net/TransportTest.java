package milter.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import milter.core.codec.CommandDecoder;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyDecoder;
import milter.core.codec.ReplyEncoder;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TransportTest {
    private static final long HANG_GUARD_SECONDS = 30;

    @Test
    void choiceFollowsThePropertyAndEpollAvailability() {
        assertSame(Transport.EPOLL, Transport.choose(null, true));
        assertSame(Transport.NIO, Transport.choose(null, false));
        assertSame(Transport.EPOLL, Transport.choose("auto", true));
        assertSame(Transport.EPOLL, Transport.choose("", true));
        assertSame(Transport.NIO, Transport.choose("nio", true));
        assertSame(Transport.NIO, Transport.choose(" NIO ", true));
        assertSame(Transport.EPOLL, Transport.choose("epoll", true));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> Transport.choose("epoll", false));
        assertTrue(missing.getMessage().contains("epoll is not available"), missing.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Transport.choose("kqueue", true));
        assertTrue(unknown.getMessage().contains("<kqueue>"), unknown.getMessage());
    }

    @Test
    void bestIsEpollOnLinux() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        if (os.contains("linux") && (arch.equals("amd64") || arch.equals("aarch64"))) {
            assertTrue(Epoll.isAvailable(), () -> "native epoll should load here: " + Epoll.unavailabilityCause());
            assertSame(Transport.EPOLL, Transport.best());
        } else {
            assertSame(Epoll.isAvailable() ? Transport.EPOLL : Transport.NIO, Transport.best());
        }
    }

    @Test
    void bestHonoursTheSystemProperty() {
        String before = System.getProperty(Transport.PROPERTY);
        try {
            System.setProperty(Transport.PROPERTY, "nio");
            assertSame(Transport.NIO, Transport.best());
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
    }

    @Test
    void socketAddressesMatchWhatTheChannelsExpect(@TempDir Path dir) {
        ConnectionSpec unix = ConnectionSpec.parse("unix:" + dir.resolve("m.sock"));
        assertInstanceOf(DomainSocketAddress.class, Transport.EPOLL.socketAddress(unix));
        assertInstanceOf(UnixDomainSocketAddress.class, Transport.NIO.socketAddress(unix));
        ConnectionSpec inet = ConnectionSpec.parse("inet:0@[127.0.0.1]");
        assertInstanceOf(InetSocketAddress.class, Transport.EPOLL.socketAddress(inet));
        assertInstanceOf(InetSocketAddress.class, Transport.NIO.socketAddress(inet));
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void exchangesPacketsOverIpv4Loopback(Transport transport) throws Exception {
        exchange(transport, "inet:0@[127.0.0.1]");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void exchangesPacketsOverIpv6Loopback(Transport transport) throws Exception {
        exchange(transport, "inet6:0@[::1]");
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void exchangesPacketsOverAUnixSocket(Transport transport, @TempDir Path dir) throws Exception {
        exchange(transport, "unix:" + dir.resolve("milter.sock"));
    }

    /** A milter-side server and an MTA-side client on one transport: HELO goes out, continue comes back. */
    private static void exchange(Transport transport, String listen) throws Exception {
        // Where epoll should load, bestIsEpollOnLinux fails instead of this being skipped.
        assumeTrue(transport != Transport.EPOLL || Epoll.isAvailable(), "native epoll is not available here");
        ConnectionSpec spec = ConnectionSpec.parse(listen);
        EventLoopGroup group = transport.newEventLoopGroup(1, "transport-test");
        CompletableFuture<Command> received = new CompletableFuture<>();
        CompletableFuture<Reply> answered = new CompletableFuture<>();
        Channel server = null;
        Channel client = null;
        try {
            server = new ServerBootstrap().group(group).channel(transport.serverChannelClass(spec))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new CommandDecoder(), ReplyEncoder.INSTANCE,
                                    new SimpleChannelInboundHandler<Command>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, Command command) {
                                            received.complete(command);
                                            ctx.writeAndFlush(Reply.Continue.INSTANCE);
                                        }
                                    });
                        }
                    })
                    .bind(transport.socketAddress(spec)).sync().channel();
            ConnectionSpec target = spec;
            if (spec instanceof ConnectionSpec.Inet inet) {
                int port = ((InetSocketAddress) server.localAddress()).getPort();
                target = new ConnectionSpec.Inet(inet.ipv6(), port, inet.host(), inet.literal());
            }
            client = new Bootstrap().group(group).channel(transport.channelClass(spec))
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ReplyDecoder(), CommandEncoder.INSTANCE,
                                    new SimpleChannelInboundHandler<Reply>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, Reply reply) {
                                            answered.complete(reply);
                                        }
                                    });
                        }
                    })
                    .connect(transport.socketAddress(target)).sync().channel();
            client.writeAndFlush(new Command.Helo("client.example.net")).sync();
            assertEquals(new Command.Helo("client.example.net"), received.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS));
            assertEquals(Reply.Continue.INSTANCE, answered.get(HANG_GUARD_SECONDS, TimeUnit.SECONDS));
        } finally {
            if (client != null) {
                client.close().awaitUninterruptibly(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            }
            if (server != null) {
                server.close().awaitUninterruptibly(HANG_GUARD_SECONDS, TimeUnit.SECONDS);
            }
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly(HANG_GUARD_SECONDS,
                    TimeUnit.SECONDS);
        }
    }
}
