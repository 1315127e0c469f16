package milter.manager.condition;

import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DnsPtrRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import milter.core.log.TaggedLogger;

/**
 * Host names of the MTA's own addresses for the {@code Sendmail Compatible} condition's {@code if_name} macro.
 * Upstream resolves them synchronously in the stopper; here the first session that meets an address starts a
 * reverse lookup and goes on without the name, later sessions find it cached. The cache is an immutable map
 * swapped atomically (at most {@value #MAX_ENTRIES} entries, then cleared, as upstream), so readers take no lock.
 */
public final class InterfaceNameCache {
    static final int MAX_ENTRIES = 100;

    private final DnsResolvers resolvers;
    private final AtomicReference<Map<String, String>> names = new AtomicReference<>(Map.of());
    private final AtomicReference<Map<String, CompletableFuture<String>>> pending =
            new AtomicReference<>(Map.of());
    private volatile DnsNameResolver resolver;

    public InterfaceNameCache() {
        this(DnsResolvers.shared());
    }

    public InterfaceNameCache(DnsResolvers resolvers) {
        this.resolvers = resolvers;
        setNameServers(List.of());
    }

    public void setNameServers(List<String> servers) {
        resolver = resolvers.resolver(DnsResolvers.parseServers(servers), DnsblChecker.DEFAULT_TIMEOUT_MILLIS);
    }

    /** The cached name of an address; null when unknown yet (a lookup is then started) or not an address. */
    public String lookup(String address) {
        if (address == null) {
            return null;
        }
        String name = names.get().get(address);
        if (name == null && (NetUtil.isValidIpV4Address(address) || NetUtil.isValidIpV6Address(address))) {
            resolve(address);
        }
        return name;
    }

    /** Looks an address up, or joins the lookup in progress; completes with its name, or null. */
    public CompletableFuture<String> resolve(String address) {
        String cached = names.get().get(address);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        CompletableFuture<String> result = new CompletableFuture<>();
        while (true) {
            Map<String, CompletableFuture<String>> before = pending.get();
            CompletableFuture<String> running = before.get(address);
            if (running != null) {
                return running;
            }
            Map<String, CompletableFuture<String>> after = new HashMap<>(before);
            after.put(address, result);
            if (pending.compareAndSet(before, Map.copyOf(after))) {
                break;
            }
        }
        resolver.resolveAll(new DefaultDnsQuestion(reverseName(address), DnsRecordType.PTR)).addListener(future -> {
            String name = null;
            if (future.isSuccess()) {
                @SuppressWarnings("unchecked")
                List<DnsRecord> records = (List<DnsRecord>) future.getNow();
                for (DnsRecord record : records) {
                    if (name == null && record instanceof DnsPtrRecord ptr) {
                        name = stripDot(ptr.hostname());
                    }
                    ReferenceCountUtil.release(record);
                }
            } else {
                TaggedLogger.warning(TaggedLogger.NO_SESSION, "[sendmail-compatible][warning]",
                        "can't resolve server name: <" + address + ">: <" + future.cause().getMessage() + ">");
            }
            if (name != null) {
                remember(address, name);
            }
            forget(address);
            result.complete(name);
        });
        return result;
    }

    private void remember(String address, String name) {
        names.updateAndGet(current -> {
            Map<String, String> next = current.size() >= MAX_ENTRIES ? new HashMap<>() : new HashMap<>(current);
            next.put(address, name);
            return Map.copyOf(next);
        });
    }

    private void forget(String address) {
        pending.updateAndGet(current -> {
            Map<String, CompletableFuture<String>> next = new HashMap<>(current);
            next.remove(address);
            return Map.copyOf(next);
        });
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }

    /** {@code 4.3.2.1.in-addr.arpa.} or the nibble form under {@code ip6.arpa.}. */
    static String reverseName(String address) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        StringBuilder name = new StringBuilder();
        if (bytes.length == 4) {
            for (int i = 3; i >= 0; i--) {
                name.append(bytes[i] & 0xFF).append('.');
            }
            return name.append("in-addr.arpa.").toString();
        }
        for (int i = bytes.length - 1; i >= 0; i--) {
            name.append(Character.forDigit(bytes[i] & 0xF, 16)).append('.');
            name.append(Character.forDigit((bytes[i] >> 4) & 0xF, 16)).append('.');
        }
        return name.append("ip6.arpa.").toString();
    }
}
