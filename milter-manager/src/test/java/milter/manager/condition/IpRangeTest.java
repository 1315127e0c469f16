package milter.manager.condition;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IpRangeTest {
    @Test
    void ipv4Networks() {
        IpRange range = IpRange.parse("127.0.0.10/31");
        assertTrue(range.contains("127.0.0.10"));
        assertTrue(range.contains("127.0.0.11"));
        assertFalse(range.contains("127.0.0.12"));
        assertTrue(IpRange.parse("127.0.0.2").contains("127.0.0.2"));
        assertFalse(IpRange.parse("127.0.0.2").contains("127.0.0.3"));
        assertTrue(IpRange.parse("0.0.0.0/0").contains("203.0.113.9"));
    }

    @Test
    void ipv6Networks() {
        IpRange range = IpRange.parse("2001:db8:c2:201::/64");
        assertTrue(range.contains("2001:db8:c2:201::fff0"));
        assertFalse(range.contains("2001:db8:c2:202::fff0"));
        assertFalse(range.contains("192.0.2.1"), "families never match");
    }

    @Test
    void badText() {
        assertThrows(IllegalArgumentException.class, () -> IpRange.parse("example.com"));
        assertThrows(IllegalArgumentException.class, () -> IpRange.parse("10.0.0.0/33"));
        assertThrows(IllegalArgumentException.class, () -> IpRange.parse("10.0.0.0/x"));
        assertFalse(IpRange.parse("10.0.0.0/8").contains("not-an-address"));
    }
}
