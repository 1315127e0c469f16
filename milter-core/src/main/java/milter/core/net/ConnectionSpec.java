package milter.core.net;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a milter listens or is reached: {@code unix:/path} (also {@code local:/path}), {@code inet:PORT},
 * {@code inet:PORT@HOST}, {@code inet:PORT@[ADDR]}, the same with {@code inet6:}, and Postfix's
 * {@code inet:HOST:PORT}. Host names are resolved only when a socket address is asked for.
 */
public sealed interface ConnectionSpec {

    /** The socket address to bind or connect to; resolves a host name (may block: call off the event loop). */
    SocketAddress toSocketAddress();

    /** The canonical text, as upstream prints it. */
    @Override
    String toString();

    /** A UNIX domain socket. */
    record Unix(Path path) implements ConnectionSpec {
        public Unix {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public SocketAddress toSocketAddress() {
            return UnixDomainSocketAddress.of(path);
        }

        @Override
        public String toString() {
            return "unix:" + path;
        }
    }

    /**
     * A TCP socket. {@code host} is null for "any address"; {@code literal} says the host was written in
     * brackets (an address, never resolved); {@code ipv6} is true for {@code inet6:}.
     */
    record Inet(boolean ipv6, int port, String host, boolean literal) implements ConnectionSpec {
        public Inet {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        @Override
        public SocketAddress toSocketAddress() {
            if (host == null) {
                return new InetSocketAddress(ipv6 ? "::" : "0.0.0.0", port);
            }
            return new InetSocketAddress(host, port);
        }

        @Override
        public String toString() {
            String scheme = ipv6 ? "inet6:" : "inet:";
            if (host == null) {
                return scheme + port;
            }
            return scheme + port + "@" + (literal ? "[" + host + "]" : host);
        }
    }

    /**
     * Parses a connection spec.
     *
     * @throws IllegalArgumentException with a message that names the spec and what is wrong with it
     */
    static ConnectionSpec parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("connection spec is empty");
        }
        String text = spec.trim();
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw invalid(spec, "protocol is missing (use unix:PATH, inet:PORT@HOST or inet6:PORT@HOST)");
        }
        String protocol = text.substring(0, colon).toLowerCase(Locale.ROOT);
        String rest = text.substring(colon + 1);
        switch (protocol) {
            case "unix":
            case "local":
                if (rest.isEmpty()) {
                    throw invalid(spec, "socket path is missing");
                }
                if (hasControlCharacter(rest)) {
                    // Surely a typing or quoting accident; it could not be read back either (blanks are trimmed).
                    throw invalid(spec, "socket path contains a control character");
                }
                try {
                    Path path = Path.of(rest);
                    if (path.toString().endsWith(" ")) {
                        // "PATH /" normalises to "PATH ": a spec whose text would lose that blank when read back.
                        throw invalid(spec, "socket path ends with a space");
                    }
                    return new Unix(path);
                } catch (InvalidPathException e) {
                    // A NUL byte, typically: say which spec it was, not just which path.
                    throw invalid(spec, "invalid socket path: " + e.getReason());
                }
            case "inet":
                return parseInet(spec, rest, false);
            case "inet6":
                return parseInet(spec, rest, true);
            default:
                throw invalid(spec, "unknown protocol <" + protocol + ">; should be one of unix, local, inet, inet6");
        }
    }

    private static ConnectionSpec parseInet(String spec, String rest, boolean ipv6) {
        if (rest.isEmpty()) {
            throw invalid(spec, "port is missing");
        }
        String portText;
        String host = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            portText = rest.substring(0, at);
            host = rest.substring(at + 1);
            if (portText.isEmpty()) {
                throw invalid(spec, "port is missing before '@'");
            }
            if (host.isEmpty()) {
                throw invalid(spec, "host is missing after '@'");
            }
        } else if (!ipv6 && rest.indexOf(':') > 0 && !isDigits(rest)) {
            // Postfix writes inet:HOST:PORT, with an IPv6 address in brackets ([::1]:PORT).
            int last = rest.lastIndexOf(':');
            host = rest.substring(0, last);
            portText = rest.substring(last + 1);
            if (host.startsWith("[") && host.endsWith("]")
                    && InetAddresses.isIpv6Literal(host.substring(1, host.length() - 1))) {
                ipv6 = true;
            }
        } else {
            portText = rest;
        }
        int port = parsePort(spec, portText);
        if (host == null) {
            return new Inet(ipv6, port, null, false);
        }
        if (host.indexOf(' ') >= 0 || hasControlCharacter(host)) {
            // No host name has one; and the spec's text could not be read back (surrounding blanks are trimmed).
            throw invalid(spec, "host contains a space or control character");
        }
        boolean literal = host.startsWith("[") && host.endsWith("]");
        if (literal) {
            host = host.substring(1, host.length() - 1);
            if (host.isEmpty()) {
                throw invalid(spec, "address is empty");
            }
            if (!InetAddresses.isLiteral(host)) {
                throw invalid(spec, "<" + host + "> is not an IP address");
            }
            if (InetAddresses.isIpv6Literal(host) != ipv6) {
                throw invalid(spec, ipv6 ? "inet6 needs an IPv6 address" : "inet needs an IPv4 address");
            }
        } else if (InetAddresses.isLiteral(host)) {
            literal = true;
            if (InetAddresses.isIpv6Literal(host) != ipv6) {
                // As with brackets: the canonical text brackets the address, and must parse back.
                throw invalid(spec, ipv6 ? "inet6 needs an IPv6 address" : "inet needs an IPv4 address");
            }
        }
        return new Inet(ipv6, port, host, literal);
    }

    private static int parsePort(String spec, String text) {
        if (text.isEmpty() || !isDigits(text) || text.length() > 5) {
            throw invalid(spec, "port should be a number from 0 to 65535: <" + text + ">");
        }
        int port = Integer.parseInt(text);
        if (port > 65535) {
            throw invalid(spec, "port should be a number from 0 to 65535: <" + text + ">");
        }
        return port;
    }

    private static boolean hasControlCharacter(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < ' ' || c == 0x7F) {
                return true;
            }
        }
        return false;
    }

    private static boolean isDigits(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (!Character.isDigit(text.charAt(i)) || text.charAt(i) > '9') {
                return false;
            }
        }
        return !text.isEmpty();
    }

    private static IllegalArgumentException invalid(String spec, String why) {
        return new IllegalArgumentException("invalid connection spec: <" + spec + ">: " + why);
    }
}
