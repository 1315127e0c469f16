package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.config.Setting;
import milter.manager.ops.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket in this JVM, with recorded actions: framing, every request, errors, socket handling. */
class ControllerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path directory;

    private final List<String> calls = new CopyOnWriteArrayList<>();
    private volatile String reloadProblem;
    private Controller controller;
    private LogCapture log;

    private final Configuration configuration = Configuration.builder()
            .egg(Egg.of("child-a", ConnectionSpec.parse("inet:20025@[127.0.0.1]"))).build();

    private final ControllerActions actions = new ControllerActions() {
        @Override
        public Configuration configuration() {
            return configuration;
        }

        @Override
        public List<Path> loadPaths() {
            return List.of(directory.resolve("missing"), directory);
        }

        @Override
        public String reload() {
            calls.add("reload");
            return reloadProblem;
        }

        @Override
        public String status() {
            calls.add("status");
            return "sessions-processing: 0\n";
        }

        @Override
        public String stopChild(String name) {
            calls.add("stop-child " + name);
            return name.equals("child-a") ? null : "no milter named <" + name + ">";
        }
    };

    private Path socket() {
        return directory.resolve("controller.sock");
    }

    private Controller start(Configuration.Builder settings) throws IOException {
        log = new LogCapture();
        controller = Controller.listen(settings.build(), Transport.best(), actions, 4096);
        return controller;
    }

    private Controller start() throws IOException {
        return start(Configuration.builder().set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket()));
    }

    private ControlClient client() throws IOException {
        return ControlClient.connect(controller.boundSpec(), WAIT);
    }

    @AfterEach
    void stop() {
        if (controller != null) {
            controller.close();
        }
        if (log != null) {
            log.close();
        }
    }

    @Test
    void withoutASpecTheControllerIsDisabledAndSaysSo() throws IOException {
        assertNull(start(Configuration.builder()));
        assertEquals("[controller][disabled] connection spec isn't specified",
                log.find("[controller][disabled]"));
    }

    @Test
    void getConfigurationAnswersTheXml() throws IOException {
        start();
        try (ControlClient client = client()) {
            String xml = client.getConfiguration();
            assertTrue(xml.startsWith("<configuration>\n  <milters>\n    <milter>\n      <name>child-a</name>\n"), xml);
            assertTrue(xml.contains("<connection-spec>inet:20025@[127.0.0.1]</connection-spec>"), xml);
        }
    }

    @Test
    void setConfigurationStoresTheFileWithoutReloading() throws IOException {
        start();
        try (ControlClient client = client()) {
            client.setConfiguration("<configuration>\n</configuration>\n");
        }
        assertEquals("<configuration>\n</configuration>\n",
                Files.readString(directory.resolve("milter-manager.custom.conf")));
        assertFalse(calls.contains("reload"));
    }

    @Test
    void setConfigurationThatCannotBeSavedAnswersError() throws IOException {
        Files.writeString(directory.resolve("milter-manager.custom.conf"), "");
        Files.delete(directory.resolve("milter-manager.custom.conf"));
        Files.createDirectory(directory.resolve("milter-manager.custom.conf"));
        start();
        try (ControlClient client = client()) {
            ControlClient.ControlErrorException error = assertThrows(ControlClient.ControlErrorException.class,
                    () -> client.setConfiguration("<configuration/>"));
            assertEquals("error", error.kind());
            assertTrue(error.getMessage().startsWith("failed to save custom configuration file: can't find writable"
                    + " custom configuration file in [\"" + directory.resolve("missing")), error.getMessage());
        }
        assertTrue(log.find("[controller][error][save] failed to save custom configuration file") != null,
                log.lines().toString());
    }

    @Test
    void reloadAnswersSuccessEvenWhenTheLoadFailedAndLogsTheError() throws IOException {
        start();
        reloadProblem = "reload failed with 1 error(s)";
        try (ControlClient client = client()) {
            client.reload();
        }
        assertEquals(List.of("reload"), calls);
        assertEquals("[controller][reload][error] reload failed with 1 error(s)", log.find("[controller][reload]"));
    }

    @Test
    void getStatusAndStopChildGoToTheActions() throws IOException {
        start();
        try (ControlClient client = client()) {
            assertEquals("sessions-processing: 0\n", client.getStatus());
            client.stopChild("child-a");
            assertEquals("no milter named <nope>", assertThrows(ControlClient.ControlErrorException.class,
                    () -> client.stopChild("nope")).getMessage());
        }
        assertEquals(List.of("status", "stop-child child-a", "stop-child nope"), calls);
        assertTrue(log.find("[controller][error][stop-child] <nope>: no milter named <nope>") != null);
    }

    @Test
    void unknownCommandIsADecodeErrorWithoutReplyAndTheConnectionGoesOn() throws Exception {
        start();
        try (ControlClient client = client()) {
            client.send(ControlPacket.of("launch", "/bin/sh"));
            client.send(ControlPacket.of("get-status", "extra"));
            // Replies come in request order: this one proves the two above got none.
            assertEquals("sessions-processing: 0\n", client.getStatus());
        }
        assertTrue(log.await("Decode error: unexpected command was received: <launch>", WAIT)
                .matches("\\[\\d+\\] \\[agent\\]\\[error\\]\\[decode\\] .*"));
        log.await("Decode error: get-status command should not have content: <5> bytes", WAIT);
        assertEquals(List.of("status"), calls);
    }

    @Test
    void oversizedFrameClosesTheConnectionBeforeReadingIt() throws Exception {
        start();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket()));
            channel.write(ByteBuffer.wrap(new byte[] {0x7f, 0, 0, 0, 'x'}));
            ByteBuffer buffer = ByteBuffer.allocate(16);
            assertEquals(-1, channel.read(buffer), "the controller closes the connection");
        }
        log.await("Decode error: control packet too large: <2130706432> bytes (at most <4096>)", WAIT);
        try (ControlClient client = client()) {
            assertEquals("sessions-processing: 0\n", client.getStatus(), "other connections are not affected");
        }
    }

    @Test
    void unixSocketGetsItsModeAndIsRemovedOnClose() throws IOException {
        start(Configuration.builder().set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket())
                .set(Setting.CONTROLLER_UNIX_SOCKET_MODE, 0600));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket())));
        assertEquals("[controller][listen][start] <unix:" + socket() + ">", log.find("[controller][listen][start]"));
        controller.close();
        assertFalse(Files.exists(socket()));
    }

    @Test
    void staleSocketIsReplacedOrRefusedAsConfigured() throws IOException {
        Files.writeString(socket(), "stale");
        IOException refused;
        try (LogCapture capture = new LogCapture()) {
            refused = assertThrows(IOException.class, () -> Controller.listen(Configuration.builder()
                    .set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket())
                    .set(Setting.CONTROLLER_REMOVE_UNIX_SOCKET_ON_CREATE, false).build(), Transport.best(), actions));
            assertTrue(capture.find("[controller][error][listen] <unix:" + socket() + ">: Address already in use")
                    != null, capture.lines().toString());
        }
        assertTrue(refused.getMessage().contains("Address already in use"), refused.getMessage());
        start();
        try (ControlClient client = client()) {
            assertEquals("sessions-processing: 0\n", client.getStatus());
        }
    }

    @Test
    void tcpSpecWorksToo() throws IOException {
        start(Configuration.builder().set(Setting.CONTROLLER_CONNECTION_SPEC, "inet:0@[127.0.0.1]"));
        assertTrue(controller.boundSpec().toString().matches("inet:[1-9]\\d*@\\[127\\.0\\.0\\.1\\]"),
                controller.boundSpec().toString());
        try (ControlClient client = client()) {
            client.reload();
        }
        assertEquals(List.of("reload"), calls);
    }

    @Test
    void unixSocketGroupIsChangedOrTheErrorLogged() throws IOException {
        // As root any group will do, so take one the socket would not have anyway.
        String group = "root".equals(System.getProperty("user.name")) ? "daemon"
                : Files.readAttributes(directory, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        start(Configuration.builder().set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket())
                .set(Setting.CONTROLLER_UNIX_SOCKET_GROUP, group));
        assertEquals(group, Files.readAttributes(socket(), java.nio.file.attribute.PosixFileAttributes.class).group()
                .getName());
        controller.close();
        log.close();
        start(Configuration.builder().set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket())
                .set(Setting.CONTROLLER_UNIX_SOCKET_GROUP, "no-such-group-for-milter-tests"));
        assertTrue(log.find("[controller][error][unix] failed to change UNIX socket group: <" + socket()
                + ">: <no-such-group-for-milter-tests>") != null, log.lines().toString());
        try (ControlClient client = client()) {
            assertEquals("sessions-processing: 0\n", client.getStatus(), "the controller works all the same");
        }
    }
}
