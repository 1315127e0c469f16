package milter.manager.condition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class InterfaceNameCacheTest {
    @Test
    void reverseNames() {
        assertEquals("4.3.2.1.in-addr.arpa.", InterfaceNameCache.reverseName("1.2.3.4"));
        assertEquals("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
                InterfaceNameCache.reverseName("2001:db8::1"));
    }

    @Test
    void firstLookupStartsResolutionLaterOnesAreCached() throws Exception {
        try (TestDnsServer dns = new TestDnsServer().ptr("10.2.0.192.in-addr.arpa", "mx.example.org");
                DnsResolvers resolvers = DnsResolvers.create()) {
            InterfaceNameCache cache = new InterfaceNameCache(resolvers);
            cache.setNameServers(List.of(dns.address()));
            assertNull(cache.lookup("192.0.2.10"), "unknown at first: the session goes on without it");
            assertEquals("mx.example.org", cache.resolve("192.0.2.10").get(30, TimeUnit.SECONDS));
            assertEquals("mx.example.org", cache.lookup("192.0.2.10"));
            assertNull(cache.resolve("192.0.2.99").get(30, TimeUnit.SECONDS), "no PTR record");
            assertNull(cache.lookup("not an address"));
        }
    }
}
