package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevel;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MilterClientTest {
    @TempDir
    Path dir;

    @Test
    void listensOnInet6Loopback() throws Exception {
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet6:0@[::1]", context -> new Milter() { }, b -> { });
                FakeMta mta = harness.connect()) {
            InetSocketAddress bound = (InetSocketAddress) harness.address;
            assertInstanceOf(Inet6Address.class, bound.getAddress());
            assertEquals(6, mta.negotiate(Option.offer(6)).version());
            assertInstanceOf(Reply.Continue.class, mta.call(ClientSessionTest.CONNECT));
            assertTrue(log.has("[client][listen][start] <inet6:" + bound.getPort() + "@[::1]>"));
        }
    }

    @Test
    void unixSocketGetsItsModeAndIsRemovedOnClose() throws Exception {
        Path socket = dir.resolve("milter.sock");
        Files.writeString(socket, "stale");
        try (LogCapture log = new LogCapture()) {
            try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { },
                    b -> b.unixSocketMode(0600));
                    FakeMta mta = harness.connect()) {
                assertEquals(UnixDomainSocketAddress.of(socket), harness.address);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
                assertEquals(6, mta.negotiate(Option.offer(6)).version());
                assertInstanceOf(Reply.Continue.class, mta.call(ClientSessionTest.CONNECT));
                LogCapture.Line mode = log.await("[client][socket][unix][mode][change]");
                assertEquals("[client][socket][unix][mode][change] <0600>: <" + socket + ">", mode.text());
                assertEquals(LogLevel.INFO, mode.level());
                assertTrue(log.has("[client][listen][start] <unix:" + socket + ">"));
            }
            assertFalse(Files.exists(socket));
        }
    }

    @Test
    void defaultUnixSocketModeIs0660AndTheSocketCanBeKept() throws Exception {
        Path socket = dir.resolve("kept.sock");
        try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { },
                b -> b.removeUnixSocketOnClose(false))) {
            assertEquals(UnixDomainSocketAddress.of(socket), harness.address);
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
        assertTrue(Files.exists(socket));
        // A later listener replaces the stale socket (remove on create).
        try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { }, b -> { });
                FakeMta mta = harness.connect()) {
            assertEquals(6, mta.negotiate(Option.offer(6)).version());
        }
        assertFalse(Files.exists(socket));
    }

    @Test
    void existingFileStopsBindingWhenNotToBeRemoved() throws Exception {
        Path socket = dir.resolve("busy.sock");
        Files.writeString(socket, "someone else's");
        try (LogCapture log = new LogCapture()) {
            MilterClient client = MilterClient.builder(ConnectionSpec.parse("unix:" + socket),
                    context -> new Milter() { }).threads(1).removeUnixSocketOnCreate(false).build();
            try {
                ExecutionException failure = assertThrows(ExecutionException.class,
                        () -> client.start().toCompletableFuture().get(20, TimeUnit.SECONDS));
                assertNotNull(failure.getCause());
                assertNotNull(log.await("[client][prepare][listen][error]"));
            } finally {
                client.close();
            }
            assertEquals("someone else's", Files.readString(socket));
        }
    }

    @Test
    void unixSocketGroupIsChangedOrTheErrorLogged() throws Exception {
        Path socket = dir.resolve("group.sock");
        String group = Files.readAttributes(dir, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        try (LogCapture log = new LogCapture()) {
            try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { },
                    b -> b.unixSocketGroup(group))) {
                assertEquals(UnixDomainSocketAddress.of(socket), harness.address);
                Object gid = Files.getAttribute(socket, "unix:gid");
                assertNotNull(log.await("[client][socket][unix][group][change] <" + group + ">(<" + gid + ">): <"
                        + socket + ">"));
            }
            try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { },
                    b -> b.unixSocketGroup("no-such-group-for-milter-tests"))) {
                LogCapture.Line line = log.await("[client][error][unix]");
                assertNotNull(line);
                assertTrue(line.text().contains("no-such-group-for-milter-tests"), line.text());
                // The listener still works.
                try (FakeMta mta = harness.connect()) {
                    assertEquals(6, mta.negotiate(Option.offer(6)).version());
                }
            }
        }
    }

    @Test
    void failureToRemoveTheSocketIsLogged() throws Exception {
        Path socket = dir.resolve("replaced.sock");
        try (LogCapture log = new LogCapture()) {
            try (ClientHarness harness = new ClientHarness("unix:" + socket, context -> new Milter() { }, b -> { })) {
                assertEquals(UnixDomainSocketAddress.of(socket), harness.address);
                // Someone replaced the socket with a directory that cannot simply be unlinked.
                Files.delete(socket);
                Files.createDirectory(socket);
                Files.writeString(socket.resolve("file"), "x");
            }
            assertNotNull(log.await("[client][unix][error] failed to remove the UNIX domain socket"));
            assertNotNull(log.await("[client][run][success][cleanup][error] failed to cleanup"));
        }
    }

    @Test
    void pathThatCannotBeClearedFailsTheStart() throws Exception {
        Path socket = dir.resolve("occupied");
        Files.createDirectory(socket);
        Files.writeString(socket.resolve("file"), "x");
        try (LogCapture log = new LogCapture()) {
            MilterClient client = MilterClient.builder(ConnectionSpec.parse("unix:" + socket),
                    context -> new Milter() { }).threads(1).build();
            try {
                assertThrows(ExecutionException.class,
                        () -> client.start().toCompletableFuture().get(20, TimeUnit.SECONDS));
                LogCapture.Line line = log.await("[client][prepare][error]");
                assertNotNull(line);
                assertEquals(LogLevel.ERROR, line.level());
            } finally {
                client.close();
            }
        }
    }

    @Test
    void bindFailureIsLogged() throws Exception {
        try (LogCapture log = new LogCapture();
                ClientHarness first = new ClientHarness(context -> new Milter() { })) {
            int port = ((InetSocketAddress) first.address).getPort();
            MilterClient second = MilterClient.builder(ConnectionSpec.parse("inet:" + port + "@[127.0.0.1]"),
                    context -> new Milter() { }).threads(1).build();
            try {
                assertThrows(ExecutionException.class,
                        () -> second.start().toCompletableFuture().get(20, TimeUnit.SECONDS));
            } finally {
                second.close();
            }
            LogCapture.Line line = log.await("[client][prepare][listen][error]");
            assertNotNull(line);
            assertEquals(LogLevel.ERROR, line.level());
        }
    }

    @Test
    void maxConnectionsSuspendsAcceptingUntilASessionEnds() throws Exception {
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", context -> new Milter() { },
                        b -> b.maxConnections(1).suspendTime(Duration.ofMillis(200)))) {
            FakeMta first = harness.connect();
            try (FakeMta second = harness.connect()) {
                try (first) {
                    assertEquals(6, first.negotiate(Option.offer(6)).version());
                    second.send(new milter.core.protocol.Command.Negotiate(Option.offer(6)));
                    LogCapture.Line suspend = log.await("[client][accept][suspend]");
                    assertNotNull(suspend);
                    assertEquals(LogLevel.WARNING, suspend.level());
                    assertEquals("[client][accept][suspend] too many processing connection: 1, max: 1; suspend"
                            + " accepting connection in 0.2 seconds: #0", suspend.text());
                    assertNotNull(log.await("[client][accept][resume] resume accepting connection: #0"));
                    // Still full: another round.
                    assertNotNull(log.await("suspend accepting connection in 0.2 seconds: #1"));
                    assertTrue(second.unread().isEmpty());
                }
                // The first session ended: the second is accepted and answered.
                Reply reply = second.read();
                assertInstanceOf(Reply.Negotiate.class, reply);
                assertInstanceOf(Reply.Continue.class, second.call(ClientSessionTest.CONNECT));
            }
            assertNotNull(log.await("[sessions][finished] "));
        }
    }

    @Test
    void runningOutOfFileDescriptorsSuspendsAccepting() throws Exception {
        try (LogCapture log = new LogCapture();
                ClientHarness harness = new ClientHarness("inet:0@[127.0.0.1]", context -> new Milter() { },
                        b -> b.suspendTime(Duration.ofMillis(100)))) {
            // An accept(2) failure as the native transport reports it.
            harness.client.serverChannel().pipeline().fireExceptionCaught(
                    new IOException("accept(..) failed: Too many open files"));
            LogCapture.Line error = log.await("[client][error][accept]");
            assertNotNull(error);
            assertEquals(LogLevel.WARNING, error.level());
            assertNotNull(log.await("[client][accept][suspend] too many file is opened. suspend accepting connection"
                    + " in 0.1 seconds"));
            assertNotNull(log.await("[client][accept][resume] resume accepting connection."));
            try (FakeMta mta = harness.connect()) {
                assertEquals(6, mta.negotiate(Option.offer(6)).version());
            }
            assertTrue(harness.client.serverChannel().config().isAutoRead());
            harness.client.serverChannel().pipeline().fireExceptionCaught(new IllegalStateException("odd"));
            assertNotNull(log.await("[client][watch][error]"));
        }
    }

    @Test
    void closeEndsOpenSessionsAndOwnEventLoops() throws Exception {
        ScriptedMilter milter = new ScriptedMilter();
        ClientHarness harness = new ClientHarness(ScriptedMilter.factory(milter));
        try (FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            harness.close();
            assertTrue(mta.awaitClose());
            assertTrue(milter.closed.await(20, TimeUnit.SECONDS));
            assertTrue(harness.client.closeFuture().toCompletableFuture().isDone());
            assertEquals(0, harness.client.processingSessions());
        } finally {
            harness.close();
        }
    }

    @Test
    void pidFileIsSavedAndRemovedWithLogLines() throws Exception {
        Path pid = dir.resolve("milter.pid");
        try (LogCapture log = new LogCapture()) {
            assertTrue(PidFile.save(pid));
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(pid));
            assertNotNull(log.await("[client][pid-file][save] <" + pid + ">"));
            assertTrue(PidFile.remove(pid));
            assertFalse(PidFile.remove(pid));
            assertNotNull(log.await("[client][pid-file][error][remove]"));
            assertFalse(PidFile.save(dir.resolve("missing").resolve("milter.pid")));
            assertNotNull(log.await("[client][pid-file][save][error]"));
        }
    }
}
