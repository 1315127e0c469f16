package milter.manager.condition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DnsblCheckerTest {
    private static TestDnsServer dns;
    private static DnsResolvers resolvers;

    @BeforeAll
    static void start() throws Exception {
        dns = new TestDnsServer()
                .a("2.0.0.192.bl.example", "127.0.0.2")
                .a("3.0.0.192.bl.example", "127.0.0.9")
                .a("4.0.0.192.pbl.example", "127.0.0.11")
                .a("5.0.0.192.any.example", "10.1.2.3");
        resolvers = DnsResolvers.create();
    }

    @AfterAll
    static void stop() throws Exception {
        resolvers.close();
        dns.close();
    }

    private static DnsblChecker checker() {
        DnsblChecker checker = new DnsblChecker(resolvers);
        checker.setNameServers(List.of(dns.address()));
        checker.setTimeoutMillis(2000);
        return checker;
    }

    private static boolean listed(DnsblChecker checker, String address) throws Exception {
        return checker.listed(address).get(30, TimeUnit.SECONDS);
    }

    @Test
    void listedWhenAnAnswerIsInTheExpectedRange() throws Exception {
        DnsblChecker checker = checker();
        checker.addService("bl.example", "127.0.0.2");
        checker.addService("pbl.example", "127.0.0.10/31");
        assertTrue(listed(checker, "192.0.0.2"));
        assertTrue(listed(checker, "192.0.0.4"), "127.0.0.11 is inside 127.0.0.10/31");
        assertFalse(listed(checker, "192.0.0.3"), "127.0.0.9 is outside every expected range");
        assertFalse(listed(checker, "192.0.0.77"), "NXDOMAIN");
        assertTrue(checker.notListed("192.0.0.77").get(30, TimeUnit.SECONDS));
        assertFalse(checker.notListed("192.0.0.2").get(30, TimeUnit.SECONDS));
    }

    @Test
    void anyAnswerListsWithoutExpectedRange() throws Exception {
        DnsblChecker checker = checker();
        checker.addService("any.example", null);
        assertTrue(listed(checker, "192.0.0.5"));
        assertTrue(checker.listedNow("192.0.0.5"));
    }

    @Test
    void onlyIpv4IsLookedUp() throws Exception {
        DnsblChecker checker = checker();
        checker.addService("bl.example", null);
        int before = dns.queries();
        assertFalse(listed(checker, "2001:db8::2"));
        assertFalse(listed(checker, "not an address"));
        assertEquals(before, dns.queries());
    }

    @Test
    void noServiceNeverLists() throws Exception {
        assertFalse(listed(checker(), "192.0.0.2"));
    }

    @Test
    void badNameServerIsRejected() {
        DnsblChecker checker = new DnsblChecker(resolvers);
        assertThrows(IllegalArgumentException.class, () -> checker.setNameServers(List.of("dns.example.com")));
        assertThrows(IllegalArgumentException.class, () -> checker.setNameServers(List.of("127.0.0.1:99999")));
    }
}
