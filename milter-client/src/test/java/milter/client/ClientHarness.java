package milter.client;

import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import milter.core.net.ConnectionSpec;
import milter.testing.mta.FakeMta;

/** A started {@link MilterClient} on loopback plus fake MTAs connected to it; closes everything. */
final class ClientHarness implements AutoCloseable {
    final MilterClient client;
    final SocketAddress address;

    ClientHarness(MilterFactory factory) throws Exception {
        this("inet:0@[127.0.0.1]", factory, builder -> { });
    }

    ClientHarness(String spec, MilterFactory factory, Consumer<MilterClient.Builder> options) throws Exception {
        MilterClient.Builder builder = MilterClient.builder(ConnectionSpec.parse(spec), factory).threads(2);
        options.accept(builder);
        client = builder.build();
        try {
            address = client.start().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            client.close();
            throw e;
        }
    }

    FakeMta connect() throws IOException {
        return FakeMta.connect(address).timeout(Duration.ofSeconds(20));
    }

    @Override
    public void close() {
        client.close();
    }
}
