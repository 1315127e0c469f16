package milter.core.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * Sends syslog datagrams over UDP (by default to {@code 127.0.0.1:514}) from a non-blocking JDK datagram channel,
 * which is safe to share between threads.
 */
public final class UdpSyslogSender implements SyslogSender {
    private final DatagramChannel channel;
    private final InetSocketAddress target;

    public UdpSyslogSender(InetSocketAddress target) {
        this.target = target;
        try {
            channel = DatagramChannel.open();
            channel.configureBlocking(false);
        } catch (IOException e) {
            throw new UncheckedIOException("can't open a UDP socket for syslog: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress target() {
        return target;
    }

    @Override
    public boolean send(byte[] datagram) {
        try {
            return channel.send(ByteBuffer.wrap(datagram), target) > 0;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public boolean wantsHostname() {
        return true;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // Nothing is left to release.
        }
    }
}
