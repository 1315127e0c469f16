package milter.core.net;

import io.netty.util.NetUtil;

/** Literal IP address checks that never touch DNS. */
final class InetAddresses {
    private InetAddresses() {
    }

    static boolean isLiteral(String host) {
        return NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host);
    }

    static boolean isIpv6Literal(String host) {
        return NetUtil.isValidIpV6Address(host);
    }
}
