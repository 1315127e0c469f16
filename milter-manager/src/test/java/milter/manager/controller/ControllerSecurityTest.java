package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.LoadResult;
import milter.manager.config.Setting;
import milter.manager.config.SharedLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What listens by default besides the milter socket: nothing. The shipped configuration enables neither the
 * control socket nor the metrics endpoint, and sockets are group-only (0660) unless configured otherwise; a
 * control socket enabled without a mode is created 0660, never world-writable.
 */
@ExtendWith(SharedLoader.class)
class ControllerSecurityTest {
    @TempDir
    Path directory;

    @Test
    void theShippedConfigurationOpensNoControlOrMetricsEndpoint() {
        LoadResult result = SharedLoader.load(SharedLoader.shippedConf());
        assertTrue(result.ok(), result.errors().toString());
        Configuration configuration = result.configuration();
        assertNull(configuration.get(Setting.CONTROLLER_CONNECTION_SPEC));
        assertNull(configuration.get(Setting.MANAGER_METRICS_SPEC));
        assertEquals(0660, configuration.integer(Setting.MANAGER_UNIX_SOCKET_MODE));
        assertEquals(0660, configuration.integer(Setting.CONTROLLER_UNIX_SOCKET_MODE));
    }

    @Test
    void aControlSocketWithoutAConfiguredModeIsGroupOnly() throws IOException {
        Path socket = directory.resolve("controller.sock");
        Configuration configuration = Configuration.builder()
                .set(Setting.CONTROLLER_CONNECTION_SPEC, "unix:" + socket).build();
        try (Controller controller = Controller.listen(configuration, Transport.best(), new NoActions(configuration))) {
            assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
    }

    /** The controller is only listening here; no request is sent. */
    private static final class NoActions implements ControllerActions {
        private final Configuration configuration;

        NoActions(Configuration configuration) {
            this.configuration = configuration;
        }

        @Override
        public Configuration configuration() {
            return configuration;
        }

        @Override
        public List<Path> loadPaths() {
            return List.of();
        }

        @Override
        public String reload() {
            return null;
        }

        @Override
        public String status() {
            return "";
        }

        @Override
        public String stopChild(String name) {
            return null;
        }
    }
}
