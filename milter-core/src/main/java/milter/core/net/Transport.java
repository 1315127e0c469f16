package milter.core.net;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringDomainSocketChannel;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;

/**
 * The socket implementation: native epoll where it loads (Linux), Java NIO otherwise. Both speak TCP and UNIX
 * domain sockets. Every event loop group and channel class of a process comes from one transport, so channels
 * of one session can share an event loop.
 */
public enum Transport {
    EPOLL,
    /** Linux io_uring: only when asked for with {@code -Dmilter.transport=io_uring}. */
    IO_URING,
    NIO;

    /** The system property that forces a transport: {@code nio}, {@code epoll} or {@code auto} (the default). */
    public static final String PROPERTY = "milter.transport";

    /**
     * Epoll when available, unless {@code -Dmilter.transport=nio} says otherwise.
     *
     * @throws IllegalArgumentException when the property names no transport
     * @throws IllegalStateException when epoll is asked for but cannot be loaded
     */
    public static Transport best() {
        return choose(System.getProperty(PROPERTY), Epoll.isAvailable());
    }

    /** The choice {@link #best()} makes for a property value (null when unset) and epoll's availability. */
    static Transport choose(String requested, boolean epollAvailable) {
        String wanted = requested == null ? "auto" : requested.trim().toLowerCase(Locale.ROOT);
        switch (wanted) {
            case "":
            case "auto":
                return epollAvailable ? EPOLL : NIO;
            case "nio":
                return NIO;
            case "io_uring":
            case "io-uring":
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException(PROPERTY + "=io_uring but io_uring is not available here: "
                            + IoUring.unavailabilityCause());
                }
                return IO_URING;
            case "epoll":
                if (!epollAvailable) {
                    throw new IllegalStateException(PROPERTY + "=epoll but epoll is not available here: "
                            + Epoll.unavailabilityCause());
                }
                return EPOLL;
            default:
                throw new IllegalArgumentException(PROPERTY + " should be one of auto, epoll, io_uring, nio but was <"
                        + requested + ">");
        }
    }

    public IoHandlerFactory ioHandlerFactory() {
        switch (this) {
            case EPOLL:
                return EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringIoHandler.newFactory();
            default:
                return NioIoHandler.newFactory();
        }
    }

    /** An event loop group with daemon threads named {@code NAME-N}; {@code threads <= 0} means one per core. */
    public EventLoopGroup newEventLoopGroup(int threads, String name) {
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        return new MultiThreadIoEventLoopGroup(n, new DefaultThreadFactory(name, true), ioHandlerFactory());
    }

    public Class<? extends ServerChannel> serverChannelClass(ConnectionSpec spec) {
        boolean unix = spec instanceof ConnectionSpec.Unix;
        if (this == EPOLL) {
            return unix ? EpollServerDomainSocketChannel.class : EpollServerSocketChannel.class;
        }
        if (this == IO_URING) {
            return unix ? IoUringServerDomainSocketChannel.class : IoUringServerSocketChannel.class;
        }
        return unix ? NioServerDomainSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends Channel> channelClass(ConnectionSpec spec) {
        boolean unix = spec instanceof ConnectionSpec.Unix;
        if (this == EPOLL) {
            return unix ? EpollDomainSocketChannel.class : EpollSocketChannel.class;
        }
        if (this == IO_URING) {
            return unix ? IoUringDomainSocketChannel.class : IoUringSocketChannel.class;
        }
        return unix ? NioDomainSocketChannel.class : NioSocketChannel.class;
    }

    /** The address form the transport's channels expect for a spec (epoll uses Netty's own UNIX address type). */
    public SocketAddress socketAddress(ConnectionSpec spec) {
        SocketAddress address = spec.toSocketAddress();
        if (this != NIO && address instanceof UnixDomainSocketAddress unix) {
            return new DomainSocketAddress(unix.getPath().toString());
        }
        return address;
    }
}
