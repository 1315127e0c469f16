package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** Closing with a grace period: no new connections, running ones may finish their session. */
class GracefulCloseTest {

    @Test
    void runningSessionFinishesWhileNewConnectionsAreRefused() throws Exception {
        MilterClient client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), ctx -> new Milter() {
        }).threads(1).build();
        InetSocketAddress bound = (InetSocketAddress) client.start().toCompletableFuture().join();
        try (FakeMta mta = FakeMta.connect(bound)) {
            mta.negotiate(new Option(6, ActionFlags.ALL, ProtocolFlags.ALL));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("host", SocketFamily.INET, 25,
                    "192.0.2.1")));
            CompletableFuture<Void> closed = client.closeAsync(Duration.ofSeconds(60)).toCompletableFuture();
            // The listener goes first: a new MTA connection is refused while the old one still works.
            assertThrows(IOException.class, () -> awaitRefused(bound));
            assertFalse(closed.isDone());
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("client.example.net")));
            mta.send(Command.Quit.INSTANCE);
            assertTrue(mta.awaitClose());
            closed.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void graceRunsOutAndTheRestIsClosed() throws Exception {
        MilterClient client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), ctx -> new Milter() {
        }).threads(1).build();
        InetSocketAddress bound = (InetSocketAddress) client.start().toCompletableFuture().join();
        try (FakeMta mta = FakeMta.connect(bound)) {
            mta.negotiate(new Option(6, ActionFlags.ALL, ProtocolFlags.ALL));
            client.closeAsync(Duration.ofMillis(200)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertTrue(mta.awaitClose());
        }
    }

    /** Connecting until the refusal shows (the listener's close is asynchronous); throws the refusal. */
    private static void awaitRefused(InetSocketAddress address) throws IOException {
        for (int attempt = 0; attempt < 1000; attempt++) {
            try (java.net.Socket socket = new java.net.Socket()) {
                socket.connect(address, 1000);
            }
            Thread.onSpinWait();
        }
    }
}
