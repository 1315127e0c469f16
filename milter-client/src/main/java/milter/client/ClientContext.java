package milter.client;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.net.SocketAddress;
import milter.core.protocol.Macros;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * One MTA connection as its {@link Milter} sees it. All methods are meant to be called on
 * {@link #eventLoop()}; {@link #send} and {@link #close} may be called from elsewhere and are then handed over
 * to it.
 */
public interface ClientContext {

    /** The session id (upstream's agent tag) used in this connection's log lines. */
    long sessionId();

    /** The MTA connection. Write to it only through {@link #send}. */
    Channel channel();

    /** The event loop every callback of this connection runs on. */
    EventLoop eventLoop();

    /** The MTA's {@code O}, or null before it arrived. */
    Option offer();

    /**
     * The option in force: the {@code O} reply sent to the MTA with its protocol flags masked by the offer (and the
     * events an old version lacks marked as skipped), or null before negotiation finished.
     */
    Option option();

    /**
     * The macros the MTA defined, per stage. Connection-level stages (connect, helo, unknown) last for the SMTP
     * session; message stages are cleared after end of message and abort; all are cleared at quit.
     */
    Macros macros();

    /**
     * Sends a modification ({@code h i m + 2 - e b q}) or progress ({@code p}) to the MTA. Legal only while
     * {@link Milter#endOfMessage} is pending and, for a modification, only if the MTA granted its action.
     * Modifications are buffered and flushed with the final reply, in the order they were sent; progress is
     * flushed at once (taking earlier modifications along). The packet is encoded here, so a malformed one is
     * refused with a log line instead of reaching the wire. Takes over the content of a
     * {@link Reply.ReplaceBody}.
     *
     * @return true if the packet was accepted (or, off the event loop, handed over to it); false if it was refused
     *         and logged, in which case nothing was written
     */
    boolean send(Reply reply);

    /** Closes the connection; {@link Milter#closed} follows. */
    void close();

    /** The MTA's address (an {@link java.net.InetSocketAddress} or a UNIX domain address). */
    SocketAddress remoteAddress();

    /** Our address on this connection. */
    SocketAddress localAddress();
}
