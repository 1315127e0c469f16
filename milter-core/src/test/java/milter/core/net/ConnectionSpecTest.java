package milter.core.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConnectionSpecTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // spec                             | canonical form
        "unix:/var/run/milter.sock          | unix:/var/run/milter.sock",
        "local:/var/run/milter.sock         | unix:/var/run/milter.sock",
        "inet:10025                         | inet:10025",
        "inet:10025@localhost               | inet:10025@localhost",
        "inet:10025@[127.0.0.1]             | inet:10025@[127.0.0.1]",
        "inet:10025@127.0.0.1               | inet:10025@[127.0.0.1]",
        "inet6:10025@[::1]                  | inet6:10025@[::1]",
        "inet6:10025@::1                    | inet6:10025@[::1]",
        "inet6:10025                        | inet6:10025",
        "inet:localhost:10025               | inet:10025@localhost",
        "inet:127.0.0.1:10025               | inet:10025@[127.0.0.1]",
        "inet:[127.0.0.1]:10025             | inet:10025@[127.0.0.1]",
        "inet:[::1]:10025                   | inet6:10025@[::1]",
        "INET:0@[127.0.0.1]                 | inet:0@[127.0.0.1]",
        "'  inet:65535  '                   | inet:65535",
    })
    void parsesEveryFormToItsCanonicalText(String spec, String canonical) {
        ConnectionSpec parsed = ConnectionSpec.parse(spec);
        assertEquals(canonical, parsed.toString());
        assertEquals(parsed, ConnectionSpec.parse(canonical), "the canonical text parses to the same spec");
    }

    @Test
    void unixSpecsKeepThePath() {
        ConnectionSpec.Unix unix = assertInstanceOf(ConnectionSpec.Unix.class,
                ConnectionSpec.parse("local:/tmp/x.sock"));
        assertEquals(Path.of("/tmp/x.sock"), unix.path());
        assertEquals(UnixDomainSocketAddress.of("/tmp/x.sock"), unix.toSocketAddress());
    }

    @Test
    void inetSpecsKnowTheirParts() {
        ConnectionSpec.Inet any = assertInstanceOf(ConnectionSpec.Inet.class, ConnectionSpec.parse("inet:10025"));
        assertEquals(new ConnectionSpec.Inet(false, 10025, null, false), any);
        InetSocketAddress anyAddress = (InetSocketAddress) any.toSocketAddress();
        assertTrue(anyAddress.getAddress().isAnyLocalAddress());
        assertEquals(10025, anyAddress.getPort());

        ConnectionSpec.Inet any6 = (ConnectionSpec.Inet) ConnectionSpec.parse("inet6:10025");
        assertTrue(((InetSocketAddress) any6.toSocketAddress()).getAddress().isAnyLocalAddress());
        assertEquals(16, ((InetSocketAddress) any6.toSocketAddress()).getAddress().getAddress().length);

        assertEquals(new ConnectionSpec.Inet(false, 25, "127.0.0.1", true), ConnectionSpec.parse("inet:25@[127.0.0.1]"));
        assertEquals(new ConnectionSpec.Inet(true, 25, "::1", true), ConnectionSpec.parse("inet6:25@[::1]"));
        assertEquals(new ConnectionSpec.Inet(false, 25, "mx.example", false), ConnectionSpec.parse("inet:25@mx.example"));
        InetSocketAddress loopback = (InetSocketAddress) ConnectionSpec.parse("inet:25@[127.0.0.1]").toSocketAddress();
        assertTrue(loopback.getAddress().isLoopbackAddress());
        InetSocketAddress loopback6 = (InetSocketAddress) ConnectionSpec.parse("inet6:25@[::1]").toSocketAddress();
        assertTrue(loopback6.getAddress().isLoopbackAddress());
        assertEquals(16, loopback6.getAddress().getAddress().length);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''                    | connection spec is empty",
        "'   '                 | connection spec is empty",
        "/var/run/milter.sock  | protocol is missing",
        "tcp:25                | unknown protocol <tcp>",
        "unix:                 | socket path is missing",
        "inet:                 | port is missing",
        "inet6:                | port is missing",
        "inet:@localhost       | port is missing",
        "inet:25@              | host is missing",
        "inet:70000            | port should be a number from 0 to 65535: <70000>",
        "inet:123456@localhost | port should be a number from 0 to 65535",
        "inet:-1               | port should be a number from 0 to 65535",
        "inet:smtp             | port should be a number from 0 to 65535: <smtp>",
        "inet:localhost        | port should be a number from 0 to 65535: <localhost>",
        "inet:localhost:       | port should be a number from 0 to 65535: <>",
        "inet6:25@[127.0.0.1]  | inet6 needs an IPv6 address",
        "inet:25@[::1]         | inet needs an IPv4 address",
        "inet:0@0::5           | inet needs an IPv4 address",
        "inet6:25@127.0.0.1    | inet6 needs an IPv6 address",
        "'unix:/tmp/a.sock /'  | socket path ends with a space",
        "inet:25@[mx.example]  | <mx.example> is not an IP address",
        "inet:25@[]            | address is empty",
        "inet:25@mx\texample    | host contains a space or control character",
        "'inet:mx example:25'  | host contains a space or control character",
        "unix:/tmp/a\u0002.sock | socket path contains a control character",
    })
    void badSpecsGiveAClearError(String spec, String reason) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ConnectionSpec.parse(spec));
        assertTrue(error.getMessage().contains(reason), error.getMessage());
        if (!spec.isBlank()) {
            assertTrue(error.getMessage().startsWith("invalid connection spec: <" + spec + ">"), error.getMessage());
        }
    }

    /** Found by ConnectionSpecFuzzTargetTest: the path's own exception did not say which spec it came from. */
    @Test
    void aNulInTheSocketPathNamesTheSpec() {
        String spec = "unix:/tmp/\0x.sock";
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ConnectionSpec.parse(spec));
        assertTrue(error.getMessage().startsWith("invalid connection spec: <" + spec + ">: socket path contains"),
                error.getMessage());
    }

    @Test
    void nullIsAClearError() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ConnectionSpec.parse(null));
        assertEquals("connection spec is empty", error.getMessage());
    }

    @Test
    void inetRecordChecksItsPort() {
        assertThrows(IllegalArgumentException.class, () -> new ConnectionSpec.Inet(false, 65536, null, false));
        assertThrows(IllegalArgumentException.class, () -> new ConnectionSpec.Inet(false, -1, null, false));
    }
}
