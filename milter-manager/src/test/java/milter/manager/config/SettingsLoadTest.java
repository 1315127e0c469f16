package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every scalar key: types, conversions, validation, nil, locations. */
@ExtendWith(SharedLoader.class)
class SettingsLoadTest {
    @TempDir
    Path directory;

    private LoadResult load(String... lines) {
        SharedLoader.write(directory, "milter-manager.conf", String.join("\n", lines) + "\n");
        return SharedLoader.load(directory);
    }

    private Configuration loadClean(String... lines) {
        LoadResult result = load(lines);
        assertTrue(result.ok(), result.errors().toString());
        return result.configuration();
    }

    private String file() {
        return directory.resolve("milter-manager.conf").toString();
    }

    @Test
    void everyKeyTakesItsType() {
        Configuration c = loadClean(
                "package.platform = \"pkgsrc\"",
                "package.options = {\"prefix\" => \"/usr/pkg\", \"x\" => 1}",
                "security.privilege_mode = \"true\"",
                "security.effective_user = \"milter-manager\"",
                "security.effective_group = :mail",
                "log.level = \"error|warning\"",
                "log.path = \"/var/log/mm.log\"",
                "log.use_syslog = false",
                "log.syslog_facility = \"local3\"",
                "manager.connection_spec = \"unix:/run/mm.sock\"",
                "manager.unix_socket_mode = 0600",
                "manager.unix_socket_group = \"postfix\"",
                "manager.remove_unix_socket_on_create = false",
                "manager.remove_unix_socket_on_close = \"false\"",
                "manager.daemon = true",
                "manager.pid_file = \"/run/mm.pid\"",
                "manager.maintenance_interval = 100",
                "manager.suspend_time_on_unacceptable = 9",
                "manager.max_connections = 10",
                "manager.max_file_descriptors = 4096",
                "manager.custom_configuration_directory = \"/var/lib/mm\"",
                "manager.fallback_status = \"Temporary_Failure\"",
                "manager.fallback_status_at_disconnect = :reject",
                "manager.event_loop_backend = \"libev\"",
                "manager.n_workers = 3",
                "manager.packet_buffer_size = 8192",
                "manager.connection_check_interval = 30",
                "manager.chunk_size = 4096",
                "manager.max_pending_finished_sessions = 29",
                "controller.connection_spec = \"inet:10026@localhost\"",
                "controller.unix_socket_mode = \"0640\"",
                "controller.unix_socket_group = \"adm\"",
                "controller.remove_unix_socket_on_create = false",
                "controller.remove_unix_socket_on_close = false",
                "database.type = \"mysql2\"",
                "database.name = \"milter_manager\"",
                "database.host = \"db.example\"",
                "database.port = 3307",
                "database.path = \"/run/mysqld/mysqld.sock\"",
                "database.user = \"mm\"",
                "database.password = \"secret\"",
                "log.format = \"JSON\"",
                "manager.metrics_spec = \"inet:9125@[127.0.0.1]\"");
        assertEquals("pkgsrc", c.string(Setting.PACKAGE_PLATFORM));
        assertEquals("prefix=/usr/pkg,x=1", c.string(Setting.PACKAGE_OPTIONS));
        assertTrue(c.bool(Setting.SECURITY_PRIVILEGE_MODE));
        assertEquals("milter-manager", c.string(Setting.SECURITY_EFFECTIVE_USER));
        assertEquals("mail", c.string(Setting.SECURITY_EFFECTIVE_GROUP));
        assertEquals("error|warning", c.string(Setting.LOG_LEVEL));
        assertEquals("/var/log/mm.log", c.string(Setting.LOG_PATH));
        assertFalse(c.bool(Setting.LOG_USE_SYSLOG));
        assertEquals("local3", c.string(Setting.LOG_SYSLOG_FACILITY));
        assertEquals(ConnectionSpec.parse("unix:/run/mm.sock"), c.spec(Setting.MANAGER_CONNECTION_SPEC));
        assertEquals(0600, c.integer(Setting.MANAGER_UNIX_SOCKET_MODE));
        assertEquals("postfix", c.string(Setting.MANAGER_UNIX_SOCKET_GROUP));
        assertFalse(c.bool(Setting.MANAGER_REMOVE_UNIX_SOCKET_ON_CREATE));
        assertFalse(c.bool(Setting.MANAGER_REMOVE_UNIX_SOCKET_ON_CLOSE));
        assertTrue(c.bool(Setting.MANAGER_DAEMON));
        assertEquals("/run/mm.pid", c.string(Setting.MANAGER_PID_FILE));
        assertEquals(100, c.integer(Setting.MANAGER_MAINTENANCE_INTERVAL));
        assertEquals(9, c.integer(Setting.MANAGER_SUSPEND_TIME_ON_UNACCEPTABLE));
        assertEquals(10, c.integer(Setting.MANAGER_MAX_CONNECTIONS));
        assertEquals(4096, c.integer(Setting.MANAGER_MAX_FILE_DESCRIPTORS));
        assertEquals("/var/lib/mm", c.string(Setting.MANAGER_CUSTOM_CONFIGURATION_DIRECTORY));
        assertEquals(Status.TEMPORARY_FAILURE, c.fallbackStatus());
        assertEquals(Status.REJECT, c.status(Setting.MANAGER_FALLBACK_STATUS_AT_DISCONNECT));
        assertEquals("libev", c.string(Setting.MANAGER_EVENT_LOOP_BACKEND));
        assertEquals(3, c.integer(Setting.MANAGER_N_WORKERS));
        assertEquals(8192, c.integer(Setting.MANAGER_PACKET_BUFFER_SIZE));
        assertEquals(30, c.integer(Setting.MANAGER_CONNECTION_CHECK_INTERVAL));
        assertEquals(4096, c.chunkSize());
        assertEquals(29, c.integer(Setting.MANAGER_MAX_PENDING_FINISHED_SESSIONS));
        assertEquals(ConnectionSpec.parse("inet:10026@localhost"), c.spec(Setting.CONTROLLER_CONNECTION_SPEC));
        assertEquals(0640, c.integer(Setting.CONTROLLER_UNIX_SOCKET_MODE));
        assertEquals("adm", c.string(Setting.CONTROLLER_UNIX_SOCKET_GROUP));
        assertFalse(c.bool(Setting.CONTROLLER_REMOVE_UNIX_SOCKET_ON_CREATE));
        assertFalse(c.bool(Setting.CONTROLLER_REMOVE_UNIX_SOCKET_ON_CLOSE));
        assertEquals("mysql2", c.string(Setting.DATABASE_TYPE));
        assertEquals("milter_manager", c.string(Setting.DATABASE_NAME));
        assertEquals("db.example", c.string(Setting.DATABASE_HOST));
        assertEquals(3307, c.integer(Setting.DATABASE_PORT));
        assertEquals("/run/mysqld/mysqld.sock", c.string(Setting.DATABASE_PATH));
        assertEquals("mm", c.string(Setting.DATABASE_USER));
        assertEquals("secret", c.string(Setting.DATABASE_PASSWORD));
        assertEquals("json", c.string(Setting.LOG_FORMAT));
        assertEquals(ConnectionSpec.parse("inet:9125@[127.0.0.1]"), c.spec(Setting.MANAGER_METRICS_SPEC));
        for (Setting setting : Setting.values()) {
            assertTrue(c.location(setting.key()) != null, setting.key() + " has a location");
        }
        assertEquals(file() + ":11", c.location("manager.unix_socket_mode"));
    }

    @Test
    void readersSeeWhatWasAssigned() {
        Configuration c = loadClean(
                "manager.fallback_status = \"reject\"",
                "manager.connection_spec = \"inet:2025@[127.0.0.1]\"",
                "raise \"status\" unless manager.fallback_status == \"reject\"",
                "raise \"spec\" unless manager.connection_spec == \"inet:2025@[127.0.0.1]\"",
                "raise \"boolean\" unless manager.remove_unix_socket_on_close?",
                "raise \"mode\" unless manager.unix_socket_mode == 0660",
                "raise \"options\" unless package.options.nil?",
                "package.options = \"prefix = /etc , root=/x\"",
                "raise \"parsed\" unless package.options == {\"prefix\" => \"/etc\", \"root\" => \"/x\"}",
                "raise \"raw\" unless configuration.manager_connection_spec == \"inet:2025@[127.0.0.1]\"",
                "raise \"privilege?\" if configuration.privilege_mode?",
                "configuration.max_connections = 7");
        assertEquals(7, c.integer(Setting.MANAGER_MAX_CONNECTIONS));
        assertNull(c.location("manager.max_connections"), "raw configuration setters record no location");
    }

    @Test
    void nilResetsToTheDefault() {
        Configuration c = loadClean(
                "manager.connection_spec = \"inet:2025\"",
                "manager.connection_spec = nil",
                "manager.max_connections = 5",
                "manager.max_connections = nil",
                "manager.chunk_size = 10",
                "manager.chunk_size = nil",
                "manager.maintenance_interval = nil",
                "manager.pid_file = \"/x\"",
                "manager.pid_file = nil",
                "manager.fallback_status = \"reject\"",
                "manager.fallback_status = nil",
                "log.level = \"all\"",
                "log.level = :default",
                "security.effective_user = \"x\"",
                "security.effective_user = nil");
        assertEquals(ConnectionSpec.parse(Platform.defaultConnectionSpec("test")),
                c.spec(Setting.MANAGER_CONNECTION_SPEC));
        assertEquals(0, c.integer(Setting.MANAGER_MAX_CONNECTIONS));
        assertEquals(65535, c.chunkSize());
        assertEquals(0, c.integer(Setting.MANAGER_MAINTENANCE_INTERVAL), "upstream: nil means 0 here");
        assertNull(c.get(Setting.MANAGER_PID_FILE));
        assertEquals(Status.ACCEPT, c.fallbackStatus());
        assertEquals("default", c.string(Setting.LOG_LEVEL));
        assertNull(c.get(Setting.SECURITY_EFFECTIVE_USER));
        for (String key : List.of("manager.connection_spec", "manager.max_connections", "manager.chunk_size",
                "manager.maintenance_interval", "manager.pid_file", "manager.fallback_status", "log.level",
                "security.effective_user")) {
            assertNull(c.location(key), key + ": nil forgets the location");
        }
        assertTrue(ConfigurationDumper.dump(c).contains("# default\nmanager.maintenance_interval = nil\n"));
    }

    @Test
    void chunkSizeIsClampedAndWorkersBounded() {
        assertEquals(65535, loadClean("manager.chunk_size = 65536").integer(Setting.MANAGER_CHUNK_SIZE));
        LoadResult result = load("manager.n_workers = 1001");
        assertEquals(1, result.errors().size());
        assertEquals("manager.n_workers should be from 0 to 1000 but was 1001", result.errors().get(0).message());
    }

    @Test
    void invalidValuesAreNamedWithFileAndLine() {
        String[][] cases = {
            {"manager.fallback_status = \"bogus\"",
             "manager.fallback_status should be one of [accept, temporary-failure, reject, discard] but was \"bogus\""},
            {"manager.fallback_status_at_disconnect = :continue",
             "manager.fallback_status_at_disconnect should be one of [accept, temporary-failure, reject, discard]"
                     + " but was :continue"},
            {"security.privilege_mode = \"maybe\"",
             "security.privilege_mode should be one of [true, false] but was \"maybe\""},
            {"manager.max_connections = \"many\"",
             "manager.max_connections should be an integer but was \"many\""},
            {"manager.unix_socket_mode = \"rw-\"",
             "manager.unix_socket_mode should be a file mode (an integer such as 0660, or an octal string)"
                     + " but was \"rw-\""},
            {"manager.event_loop_backend = \"epoll\"",
             "manager.event_loop_backend should be one of [glib, libev] but was \"epoll\""},
            {"log.level = \"loud\"",
             "log.level should be a combination of [default, none, critical, error, warning, message, info, debug,"
                     + " trace, statistics, profile, all] joined by | but was \"loud\""},
        };
        for (String[] c : cases) {
            LoadResult result = load("# a comment", c[0]);
            assertEquals(1, result.errors().size(), c[0]);
            ConfigurationError error = result.errors().get(0);
            assertEquals(ConfigurationError.Kind.INVALID_VALUE, error.kind());
            assertEquals(file(), error.file());
            assertEquals(2, error.line());
            assertEquals(c[1], error.message());
            assertEquals(file() + ":2: " + c[1], error.toString());
        }
    }

    @Test
    void badConnectionSpecSaysWhy() {
        LoadResult result = load("manager.connection_spec = \"inet:port@host\"");
        ConfigurationError error = result.errors().get(0);
        assertTrue(error.message().startsWith("manager.connection_spec should be a connection spec (unix:PATH,"
                + " inet:PORT@HOST, inet6:PORT@HOST) but was \"inet:port@host\" (invalid connection spec:"),
                error.message());
        assertEquals(ConnectionSpec.parse(Platform.defaultConnectionSpec("test")),
                result.configuration().spec(Setting.MANAGER_CONNECTION_SPEC), "the bad value was not applied");
    }
}
