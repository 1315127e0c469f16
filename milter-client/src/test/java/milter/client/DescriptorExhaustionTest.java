package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * Real {@code EMFILE}: a listener runs in a child JVM started under {@code ulimit -n 128}; the test opens
 * connections until the child runs out of descriptors. The child must log the accept failure, suspend accepting,
 * resume after the suspend time, and serve a new MTA normally once the connections are gone.
 */
class DescriptorExhaustionTest {
    private static final int DESCRIPTOR_LIMIT = 128;

    @Test
    void runningOutOfDescriptorsSuspendsAndResumesAccepting() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder("sh", "-c", "ulimit -n " + DESCRIPTOR_LIMIT
                + " && exec \"$0\" -Xmx128m -cp \"$1\" milter.client.ForkedListener 300", java,
                System.getProperty("java.class.path"));
        builder.redirectErrorStream(true);
        Process child = builder.start();
        ChildOutput output = new ChildOutput(child);
        List<Socket> sockets = new ArrayList<>();
        try {
            String listening = output.await("LISTENING ");
            assertNotNull(listening, () -> "child did not start: " + output.lines());
            InetSocketAddress address = new InetSocketAddress("127.0.0.1",
                    Integer.parseInt(listening.substring("LISTENING ".length()).trim()));
            // More connections than the child has descriptors; the kernel's backlog takes the rest.
            for (int i = 0; i < DESCRIPTOR_LIMIT + 32; i++) {
                Socket socket = new Socket();
                socket.connect(address, 20_000);
                sockets.add(socket);
            }
            assertNotNull(output.await("[client][error][accept]"), () -> "no accept failure: " + output.lines());
            assertTrue(output.await("[client][error][accept]").contains("Too many open files"), output::lines);
            assertNotNull(output.await("[client][accept][suspend] too many file is opened. suspend accepting "
                    + "connection in 0.3 seconds"), output::lines);
            for (Socket socket : sockets) {
                socket.close();
            }
            sockets.clear();
            assertNotNull(output.await("[client][accept][resume] resume accepting connection."), output::lines);
            // Served normally again: every descriptor the closed connections held was given back.
            try (FakeMta mta = FakeMta.connect(address).timeout(Duration.ofSeconds(30))) {
                assertEquals(6, mta.negotiate(Option.offer(6)).version());
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("mx.example.org",
                        SocketFamily.INET, 25, "192.0.2.1")));
            }
            child.getOutputStream().close();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child stops when its input ends");
            assertEquals(0, child.exitValue(), output::lines);
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
            output.join();
        }
    }

    /** The child's output lines, read on a thread of their own. */
    private static final class ChildOutput {
        private final List<String> lines = new ArrayList<>();
        private final Thread reader;

        ChildOutput(Process child) {
            reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                        StandardCharsets.ISO_8859_1))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        synchronized (lines) {
                            lines.add(line);
                            lines.notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // The child is gone.
                }
            }, "forked-listener-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** The first line containing {@code part}, waiting up to 30 s (a hang guard); null if none came. */
        String await(String part) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            synchronized (lines) {
                while (true) {
                    for (String line : lines) {
                        if (line.contains(part)) {
                            return line;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !reader.isAlive()) {
                        return null;
                    }
                    lines.wait(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                }
            }
        }

        String lines() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        void join() throws InterruptedException {
            reader.join(TimeUnit.SECONDS.toMillis(30));
        }
    }
}
