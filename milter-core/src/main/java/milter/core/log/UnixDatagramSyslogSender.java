package milter.core.log;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Sends syslog datagrams to a local UNIX datagram socket ({@code /dev/log}), where syslog daemons and journald
 * listen. The JDK has no UNIX datagram sockets, so this uses Netty's native epoll transport: one daemon thread,
 * an unbound, unconnected socket that addresses every datagram to the path (so a restarted syslog daemon is
 * reached again without reconnecting). A full socket buffer drops lines instead of blocking or queueing without
 * bound. Needs {@link Epoll#isAvailable()}.
 */
public final class UnixDatagramSyslogSender implements SyslogSender {
    private static final int LOW_WATER_MARK = 256 * 1024;
    private static final int HIGH_WATER_MARK = 1024 * 1024;

    private final EventLoopGroup group;
    private final Channel channel;
    private final DomainSocketAddress target;

    // Active on registration lets an unbound, unconnected socket send: binding would create a file and
    // connecting would tie the socket to one incarnation of the syslog daemon.
    @SuppressWarnings("deprecation")
    public UnixDatagramSyslogSender(Path socket) {
        if (!Epoll.isAvailable()) {
            throw new IllegalStateException("UNIX datagram sockets need the native epoll transport: "
                    + Epoll.unavailabilityCause());
        }
        target = new DomainSocketAddress(socket.toString());
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("milter-syslog", true),
                EpollIoHandler.newFactory());
        try {
            channel = new Bootstrap().group(group)
                    .channel(EpollDomainDatagramChannel.class)
                    .option(ChannelOption.DATAGRAM_CHANNEL_ACTIVE_ON_REGISTRATION, true)
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(LOW_WATER_MARK, HIGH_WATER_MARK))
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            // A send error concerns one datagram only; logging it would loop back here.
                        }
                    })
                    .register().syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public Path target() {
        return Path.of(target.path());
    }

    @Override
    public boolean send(byte[] datagram) {
        if (!channel.isActive() || !channel.isWritable()) {
            return false;
        }
        channel.writeAndFlush(new DomainDatagramPacket(Unpooled.wrappedBuffer(datagram), target),
                channel.voidPromise());
        return true;
    }

    /** Waits until the datagrams handed over so far were tried (tests). */
    void awaitHandedOver() {
        channel.eventLoop().submit(() -> { }).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    @Override
    public boolean wantsHostname() {
        return false;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
