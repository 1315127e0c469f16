package milter.core.log;

/** Where syslog datagrams go. Implementations never block the caller and may drop a datagram under pressure. */
public interface SyslogSender extends AutoCloseable {
    /**
     * Hands one datagram over for sending.
     *
     * @return false when it was dropped (the socket is gone or its buffer full)
     */
    boolean send(byte[] datagram);

    /** Whether the syslog datagrams carry a host name (RFC 3164 over the network) or not (the local socket form). */
    boolean wantsHostname();

    @Override
    void close();
}
