package milter.server;

import java.time.Duration;
import java.util.Objects;
import milter.core.log.SessionIds;
import milter.core.net.ConnectionSpec;

/**
 * How to reach one milter and how long to wait for it. Immutable.
 *
 * @param spec                where the milter listens
 * @param name                the milter's name, shown as {@code [NAME]} in every log line of the session
 * @param tag                 the session id that prefixes log lines ({@link SessionIds#next()})
 * @param connectionTimeout   establishing the connection
 * @param writingTimeout      a queued packet until it is handed to the kernel
 * @param readingTimeout      a reply to any command but end of message
 * @param endOfMessageTimeout the final reply after end of message, started again by each progress reply
 */
public record ServerOptions(ConnectionSpec spec, String name, long tag, Duration connectionTimeout,
        Duration writingTimeout, Duration readingTimeout, Duration endOfMessageTimeout) {

    /** Upstream's server defaults: 300 s, 10 s, 10 s, 300 s. */
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(300);
    public static final Duration DEFAULT_WRITING_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_READING_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_END_OF_MESSAGE_TIMEOUT = Duration.ofSeconds(300);

    public ServerOptions {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(name, "name");
        positive(connectionTimeout, "connection timeout");
        positive(writingTimeout, "writing timeout");
        positive(readingTimeout, "reading timeout");
        positive(endOfMessageTimeout, "end-of-message timeout");
    }

    /** Default timeouts, the spec's text as name and a fresh session id. */
    public static ServerOptions of(ConnectionSpec spec) {
        return of(spec, spec.toString());
    }

    /** Default timeouts and a fresh session id. */
    public static ServerOptions of(ConnectionSpec spec, String name) {
        return new ServerOptions(spec, name, SessionIds.next(), DEFAULT_CONNECTION_TIMEOUT,
                DEFAULT_WRITING_TIMEOUT, DEFAULT_READING_TIMEOUT, DEFAULT_END_OF_MESSAGE_TIMEOUT);
    }

    public ServerOptions withTag(long newTag) {
        return new ServerOptions(spec, name, newTag, connectionTimeout, writingTimeout, readingTimeout,
                endOfMessageTimeout);
    }

    public ServerOptions withConnectionTimeout(Duration timeout) {
        return new ServerOptions(spec, name, tag, timeout, writingTimeout, readingTimeout, endOfMessageTimeout);
    }

    public ServerOptions withWritingTimeout(Duration timeout) {
        return new ServerOptions(spec, name, tag, connectionTimeout, timeout, readingTimeout, endOfMessageTimeout);
    }

    public ServerOptions withReadingTimeout(Duration timeout) {
        return new ServerOptions(spec, name, tag, connectionTimeout, writingTimeout, timeout, endOfMessageTimeout);
    }

    public ServerOptions withEndOfMessageTimeout(Duration timeout) {
        return new ServerOptions(spec, name, tag, connectionTimeout, writingTimeout, readingTimeout, timeout);
    }

    /** Every timer set to the same value, as upstream's {@code --all-timeouts}. */
    public ServerOptions withAllTimeouts(Duration timeout) {
        return new ServerOptions(spec, name, tag, timeout, timeout, timeout, timeout);
    }

    private static void positive(Duration timeout, String what) {
        Objects.requireNonNull(timeout, what);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(what + " should be positive: " + timeout);
        }
    }
}
