package milter.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevels;
import milter.core.log.LogSetup;
import milter.core.net.ConnectionSpec;

/**
 * A listener in a JVM of its own, for tests that must change process-wide limits (the file descriptor limit):
 * listens on loopback with a default milter, logs to standard output, prints {@code LISTENING <port>}, and
 * closes when its standard input ends.
 */
public final class ForkedListener {
    private ForkedListener() {
    }

    public static void main(String[] args) throws Exception {
        LogSetup.builder().levels(LogLevels.parse("error|warning|info")).timestamp(false).install();
        MilterClient client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), context -> new Milter() {
        }).threads(1).suspendTime(Duration.ofMillis(Long.parseLong(args[0]))).build();
        InetSocketAddress bound = (InetSocketAddress) client.start().toCompletableFuture().get(30, TimeUnit.SECONDS);
        System.out.println("LISTENING " + bound.getPort());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // Waiting for the parent to close our standard input.
            }
        } catch (IOException ignored) {
            // The parent is gone: stop as well.
        }
        client.close();
        System.out.println("CLOSED");
        System.out.flush();
    }
}
