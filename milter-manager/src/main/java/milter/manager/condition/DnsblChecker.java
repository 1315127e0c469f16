package milter.manager.condition;

import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * DNS-based blackhole list lookups for the {@code DNSBL Listed} / {@code Not DNSBL Listed} conditions. An IPv4
 * client {@code a.b.c.d} is looked up as {@code d.c.b.a.SERVICE} for every service at once; it is listed when one
 * answer falls in that service's expected range (or when there is any answer, for a service without one).
 * Lookups never block: they complete on the DNS loop; the engine brings the answer back to the session.
 * Configured while the configuration loads, read afterwards from any thread.
 */
public final class DnsblChecker {
    /** Upstream's per-query timeout. */
    public static final long DEFAULT_TIMEOUT_MILLIS = 5000;

    private record Service(String domain, IpRange expected) {
    }

    private final DnsResolvers resolvers;
    private volatile List<Service> services = List.of();
    private volatile List<String> nameServers = List.of();
    private volatile long timeoutMillis = DEFAULT_TIMEOUT_MILLIS;
    private volatile DnsNameResolver resolver;

    public DnsblChecker() {
        this(DnsResolvers.shared());
    }

    public DnsblChecker(DnsResolvers resolvers) {
        this.resolvers = resolvers;
        prepare();
    }

    /** Adds a list; {@code expected} is an address or network ({@code 127.0.0.10/31}) or null for "any answer". */
    public void addService(String domain, String expected) {
        List<Service> copy = new ArrayList<>(services);
        copy.add(new Service(domain, expected == null ? null : IpRange.parse(expected)));
        services = List.copyOf(copy);
    }

    public void clearServices() {
        services = List.of();
    }

    public List<String> serviceDomains() {
        return services.stream().map(Service::domain).toList();
    }

    /** Replaces the name servers ({@code ADDRESS}, {@code ADDRESS:PORT} or {@code [IPV6]:PORT}). */
    public void setNameServers(List<String> servers) {
        DnsResolvers.parseServers(servers);
        nameServers = List.copyOf(servers);
        prepare();
    }

    /** Appends name servers, as upstream's {@code name_servers=} does. */
    public void addNameServers(List<String> servers) {
        List<String> copy = new ArrayList<>(nameServers);
        copy.addAll(servers);
        setNameServers(copy);
    }

    public List<String> nameServers() {
        return nameServers;
    }

    public void setTimeoutMillis(long timeoutMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout should be positive: " + timeoutMillis);
        }
        this.timeoutMillis = timeoutMillis;
        prepare();
    }

    /** Picks the resolver while configuring, so that lookups on event loops find it ready. */
    private void prepare() {
        resolver = resolvers.resolver(DnsResolvers.parseServers(nameServers), timeoutMillis);
    }

    /** Completes with whether an IPv4 address is listed; anything that is not IPv4 text is never listed. */
    public CompletableFuture<Boolean> listed(String address) {
        if (!NetUtil.isValidIpV4Address(address)) {
            return CompletableFuture.completedFuture(false);
        }
        List<Service> current = services;
        if (current.isEmpty()) {
            return CompletableFuture.completedFuture(false);
        }
        String[] octets = address.split("\\.");
        String reversed = octets[3] + "." + octets[2] + "." + octets[1] + "." + octets[0];
        DnsNameResolver dns = resolver;
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(current.size());
        for (Service service : current) {
            dns.resolveAll(reversed + "." + service.domain()).addListener(future -> {
                if (future.isSuccess()) {
                    @SuppressWarnings("unchecked")
                    List<InetAddress> answers = (List<InetAddress>) future.getNow();
                    for (InetAddress answer : answers) {
                        if (service.expected() == null || service.expected().contains(answer)) {
                            result.complete(true);
                            break;
                        }
                    }
                }
                if (remaining.decrementAndGet() == 0) {
                    result.complete(false);
                }
            });
        }
        return result;
    }

    /** The stopper answer of {@code DNSBL Listed}: stop unless listed. */
    public CompletableFuture<Boolean> notListed(String address) {
        return listed(address).thenApply(listed -> !listed);
    }

    /** Blocks until the answer is known (never call on an event loop); errors and timeouts count as not listed. */
    public boolean listedNow(String address) {
        try {
            return listed(address).get(timeoutMillis * 3 + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException | TimeoutException e) {
            return false;
        }
    }
}
