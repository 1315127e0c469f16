package milter.manager.condition;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.ResolvedAddressTypes;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Non-blocking DNS for applicable conditions: one small event loop of its own (never a session's loop) and one
 * resolver per distinct name-server list and timeout, shared by every configuration load so that reloads do not
 * pile up sockets. Resolvers are handed out at configuration time; the lookups themselves take no lock.
 */
public final class DnsResolvers implements AutoCloseable {
    private static DnsResolvers shared;

    private final EventLoopGroup group;
    private final Map<String, DnsNameResolver> resolvers = new HashMap<>();

    private DnsResolvers() {
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("milter-dns", true),
                NioIoHandler.newFactory());
    }

    /** A private instance (tests, tools); close it when done. */
    public static DnsResolvers create() {
        return new DnsResolvers();
    }

    /** The process-wide instance, created on first use. */
    public static synchronized DnsResolvers shared() {
        if (shared == null) {
            shared = new DnsResolvers();
        }
        return shared;
    }

    /** Closes the process-wide instance (its resolvers and thread); a later {@link #shared()} starts anew. */
    public static synchronized void closeShared() {
        if (shared != null) {
            shared.close();
            shared = null;
        }
    }

    /**
     * A resolver asking {@code servers} in order (the system's resolv.conf when empty), giving up a query after
     * {@code timeoutMillis}. No search domains, no hosts file.
     */
    public synchronized DnsNameResolver resolver(List<InetSocketAddress> servers, long timeoutMillis) {
        String key = servers + "/" + timeoutMillis;
        DnsNameResolver resolver = resolvers.get(key);
        if (resolver == null) {
            DnsServerAddressStreamProvider provider = servers.isEmpty()
                    ? DnsServerAddressStreamProviders.platformDefault()
                    : new SequentialDnsServerAddressStreamProvider(servers.toArray(new InetSocketAddress[0]));
            resolver = new DnsNameResolverBuilder(group.next())
                    .datagramChannelType(NioDatagramChannel.class)
                    .nameServerProvider(provider)
                    .queryTimeoutMillis(timeoutMillis)
                    .resolvedAddressTypes(ResolvedAddressTypes.IPV4_ONLY)
                    .searchDomains(List.of())
                    .ndots(1)
                    .hostsFileEntriesResolver((host, types) -> null)
                    .build();
            resolvers.put(key, resolver);
        }
        return resolver;
    }

    static List<InetSocketAddress> parseServers(List<String> servers) {
        return servers.stream().map(DnsResolvers::parseServer).toList();
    }

    /** {@code ADDRESS}, {@code ADDRESS:PORT}, {@code [IPV6]:PORT} or {@code IPV6}; port 53 by default. */
    static InetSocketAddress parseServer(String server) {
        String text = server.trim();
        String host = text;
        int port = 53;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("invalid name server: <" + server + ">");
            }
            host = text.substring(1, close);
            if (text.length() > close + 1) {
                port = port(server, text.substring(close + 2));
            }
        } else if (text.indexOf(':') == text.lastIndexOf(':') && text.indexOf(':') > 0) {
            host = text.substring(0, text.indexOf(':'));
            port = port(server, text.substring(text.indexOf(':') + 1));
        }
        if (!io.netty.util.NetUtil.isValidIpV4Address(host) && !io.netty.util.NetUtil.isValidIpV6Address(host)) {
            throw new IllegalArgumentException("name server should be an IP address: <" + server + ">");
        }
        return new InetSocketAddress(io.netty.util.NetUtil.createInetAddressFromIpAddressString(host), port);
    }

    private static int port(String server, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port > 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("invalid name server port: <" + server + ">");
    }

    @Override
    public synchronized void close() {
        resolvers.values().forEach(DnsNameResolver::close);
        resolvers.clear();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
