package milter.manager.condition;

import milter.core.protocol.Command;
import milter.core.protocol.SocketFamily;

/**
 * The SMTP client's address from the MTA's connect command, as upstream's {@code socket_address} objects show it.
 *
 * @param address the IP address text (without an {@code IPv6:} prefix) or socket path; null when unknown
 */
public record ClientAddress(SocketFamily family, String address, int port) {

    public static ClientAddress of(Command.Connect connect) {
        String address = connect.address();
        if (address != null && connect.family() == SocketFamily.INET6 && address.regionMatches(true, 0, "IPv6:", 0, 5)) {
            address = address.substring(5);
        }
        return new ClientAddress(connect.family(), address, connect.port());
    }

    public boolean isIpv4() {
        return family == SocketFamily.INET;
    }

    public boolean isIpv6() {
        return family == SocketFamily.INET6;
    }

    public boolean isUnix() {
        return family == SocketFamily.UNIX;
    }

    public boolean isUnknown() {
        return family == SocketFamily.UNKNOWN;
    }

    /** Upstream's text form: {@code inet:PORT@[ADDR]}, {@code inet6:PORT@[ADDR]}, {@code unix:PATH}. */
    @Override
    public String toString() {
        switch (family) {
            case INET:
                return "inet:" + port + "@[" + address + "]";
            case INET6:
                return "inet6:" + port + "@[" + address + "]";
            case UNIX:
                return "unix:" + address;
            default:
                return "unknown";
        }
    }
}
