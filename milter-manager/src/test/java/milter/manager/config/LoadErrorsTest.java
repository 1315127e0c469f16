package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import milter.core.log.TaggedLogger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What a broken configuration does: which part is skipped, what is reported, what the daemon gets. */
@ExtendWith(SharedLoader.class)
class LoadErrorsTest {
    @TempDir
    Path directory;

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private Level previousLevel;

    @BeforeEach
    void captureLog() {
        log.start();
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        // The module's logback-test.xml turns every logger off; the tagged lines are what is checked here.
        previousLevel = tagged.getLevel();
        tagged.setLevel(Level.TRACE);
        tagged.addAppender(log);
    }

    @AfterEach
    void releaseLog() {
        Logger tagged = (Logger) LoggerFactory.getLogger(TaggedLogger.LOGGER_NAME);
        tagged.detachAppender(log);
        tagged.setLevel(previousLevel);
    }

    private List<String> logLines() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private Path write(String name, String... lines) {
        return SharedLoader.write(directory, name, String.join("\n", lines) + "\n");
    }

    @Test
    void invalidValueSkipsTheRestOfItsFileOnly() {
        Path top = write("milter-manager.conf",
                "manager.pid_file = \"/run/a.pid\"",
                "load(\"local.conf\")",
                "manager.max_connections = 3");
        Path local = write("local.conf",
                "manager.daemon = true",
                "",
                "manager.fallback_status = \"bogus\"",
                "manager.daemon = false",
                "manager.n_workers = 2");
        LoadResult result = SharedLoader.load(directory);
        Configuration c = result.configuration();
        assertEquals("/run/a.pid", c.string(Setting.MANAGER_PID_FILE));
        assertTrue(c.bool(Setting.MANAGER_DAEMON), "before the error");
        assertEquals(0, c.integer(Setting.MANAGER_N_WORKERS), "skipped: after the error in the same file");
        assertEquals(3, c.integer(Setting.MANAGER_MAX_CONNECTIONS), "the including file goes on");
        assertEquals(1, result.errors().size());
        ConfigurationError error = result.errors().get(0);
        assertEquals(local.toString(), error.file());
        assertEquals(3, error.line());
        String expected = "[configuration][load][error] " + local + ":3: manager.fallback_status should be one of"
                + " [accept, temporary-failure, reject, discard] but was \"bogus\"";
        assertTrue(logLines().contains(expected), logLines().toString());
        assertEquals(List.of(top.toString(), local.toString()), result.loadedFiles());
    }

    @Test
    void errorInsideABlockNamesTheAssignmentLine() {
        Path top = write("milter-manager.conf",
                "define_milter(\"m\") do |milter|",
                "  milter.connection_spec = \"inet:1@localhost\"",
                "  milter.fallback_status = \"continue\"",
                "end",
                "manager.daemon = true");
        LoadResult result = SharedLoader.load(directory);
        ConfigurationError error = result.errors().get(0);
        assertEquals(top.toString(), error.file());
        assertEquals(3, error.line());
        assertEquals("milter.fallback_status should be one of [accept, temporary-failure, reject, discard] but was"
                + " \"continue\"", error.message());
        assertTrue(result.configuration().eggs().isEmpty(), "a block that failed defines nothing");
        assertTrue(!result.configuration().bool(Setting.MANAGER_DAEMON));
    }

    @Test
    void unknownConditionIsAnInvalidValue() {
        write("milter-manager.conf",
                "define_applicable_condition(\"Known\") {|condition|}",
                "define_milter(\"m\") do |milter|",
                "  milter.add_applicable_condition(\"Unknown\")",
                "end");
        ConfigurationError error = SharedLoader.load(directory).errors().get(0);
        assertEquals(ConfigurationError.Kind.INVALID_VALUE, error.kind());
        assertEquals(3, error.line());
        assertEquals("applicable condition should be one of [Known] but was \"Unknown\"", error.message());

        write("milter-manager.conf",
                "define_applicable_condition(\"Known\") {|condition|}",
                "define_milter(\"m\") do |milter|",
                "  milter.applicable_conditions = [\"Known\", \"Other\"]",
                "end");
        error = SharedLoader.load(directory).errors().get(0);
        assertEquals("applicable condition should be one of [Known] but was [\"Known\", \"Other\"]",
                error.message());
    }

    @Test
    void otherExceptionsAbortTheWholeRemainingLoad() {
        write("milter-manager.conf",
                "manager.daemon = true",
                "load(\"broken.conf\")",
                "manager.max_connections = 3");
        Path broken = write("broken.conf",
                "manager.pid_file = \"/x\"",
                "manager.no_such_key = 1",
                "manager.n_workers = 2");
        LoadResult result = SharedLoader.load(directory);
        Configuration c = result.configuration();
        assertTrue(c.bool(Setting.MANAGER_DAEMON));
        assertEquals("/x", c.string(Setting.MANAGER_PID_FILE));
        assertEquals(0, c.integer(Setting.MANAGER_N_WORKERS));
        assertEquals(0, c.integer(Setting.MANAGER_MAX_CONNECTIONS), "the including file is aborted too");
        ConfigurationError error = result.errors().get(0);
        assertEquals(ConfigurationError.Kind.ABORTED, error.kind());
        assertEquals(broken.toString(), error.file());
        assertEquals(2, error.line());
        assertTrue(error.message().startsWith("NoMethodError: undefined method `no_such_key='"), error.message());
        assertTrue(error.backtrace().get(0).startsWith(directory.resolve("milter-manager.conf") + ":2"),
                error.backtrace().toString());
    }

    @Test
    void syntaxErrorNamesItsLine() {
        Path top = write("milter-manager.conf",
                "manager.daemon = true",
                "",
                "define_milter(\"m\") do |milter|",
                "  milter.description = \"x\"",
                "");
        LoadResult result = SharedLoader.load(directory);
        ConfigurationError error = result.errors().get(0);
        assertEquals(ConfigurationError.Kind.ABORTED, error.kind());
        assertEquals(top.toString(), error.file());
        assertTrue(error.line() >= 3, error.toString());
        assertTrue(error.message().startsWith("SyntaxError: "), error.message());
        assertTrue(!result.configuration().bool(Setting.MANAGER_DAEMON), "nothing of a file that does not parse");
    }

    @Test
    void missingNestedLoadAbortsButLoadIfExistDoesNot() {
        write("milter-manager.conf",
                "load_if_exist(\"missing.conf\")",
                "manager.daemon = true",
                "load(\"missing/*.conf\")",
                "manager.max_connections = 3");
        LoadResult result = SharedLoader.load(directory);
        assertTrue(result.configuration().bool(Setting.MANAGER_DAEMON));
        assertEquals(0, result.configuration().integer(Setting.MANAGER_MAX_CONNECTIONS));
        ConfigurationError error = result.errors().get(0);
        assertEquals(3, error.line());
        assertEquals("Milter::Manager::ConfigurationLoader::NonexistentPath: missing/*.conf doesn't exist.",
                error.message());
    }

    @Test
    void missingTopLevelFileGivesDefaults() {
        LoadResult result = SharedLoader.load(directory, directory.resolve("other"));
        assertEquals(1, result.errors().size());
        ConfigurationError error = result.errors().get(0);
        assertEquals(ConfigurationError.Kind.MISSING_FILE, error.kind());
        String message = "<milter-manager.conf>: path milter-manager.conf doesn't exist in load path ([\""
                + directory + "\", \"" + directory.resolve("other") + "\"])";
        assertEquals(message, error.message());
        assertTrue(logLines().contains("[configuration][load][error] " + message), logLines().toString());
        assertEquals(ConfigurationDumper.dump(Configuration.builder().set(Setting.PACKAGE_PLATFORM, "test")
                        .set(Setting.MANAGER_CONNECTION_SPEC, Platform.defaultConnectionSpec("test")).build()),
                ConfigurationDumper.dump(result.configuration()));
    }

    @Test
    void strictLoadFailsOnAnyErrorAndReloadKeepsTheCurrentSnapshot() throws Exception {
        write("milter-manager.conf", "manager.max_connections = 5");
        LoadRequest request = LoadRequest.builder().loadPath(directory).platform("test").build();
        Configuration current = SharedLoader.loader().loadStrict(request);
        assertEquals(5, current.integer(Setting.MANAGER_MAX_CONNECTIONS));

        write("milter-manager.conf", "manager.max_connections = 6", "manager.fallback_status = \"x\"");
        ConfigurationException failure = assertThrows(ConfigurationException.class,
                () -> SharedLoader.loader().loadStrict(request));
        assertEquals(1, failure.errors().size());
        assertTrue(failure.getMessage().contains("milter-manager.conf:2: manager.fallback_status"),
                failure.getMessage());
        assertSame(current, SharedLoader.loader().reload(current, request), "a broken reload changes nothing");

        write("milter-manager.conf", "manager.max_connections = 7");
        Configuration reloaded = SharedLoader.loader().reload(current, request);
        assertEquals(7, reloaded.integer(Setting.MANAGER_MAX_CONNECTIONS));
        assertEquals(5, current.integer(Setting.MANAGER_MAX_CONNECTIONS), "snapshots never change");
    }

    @Test
    void commandLineOverridesWinAndRecordNoLocation() {
        write("milter-manager.conf", "manager.connection_spec = \"inet:2025\"", "manager.pid_file = \"/a\"");
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder().loadPath(directory).platform("test")
                .override(Setting.MANAGER_CONNECTION_SPEC, "unix:/tmp/cli.sock")
                .override(Setting.MANAGER_DAEMON, "true").build());
        Configuration c = result.configuration();
        assertEquals("unix:/tmp/cli.sock", c.spec(Setting.MANAGER_CONNECTION_SPEC).toString());
        assertTrue(c.bool(Setting.MANAGER_DAEMON));
        assertNull(c.location("manager.connection_spec"));
        assertEquals("/a", c.string(Setting.MANAGER_PID_FILE));
    }

    @Test
    void absoluteTopLevelFile() {
        Path elsewhere = SharedLoader.write(directory, "elsewhere/custom-name.conf", "manager.n_workers = 2\n");
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder().file(elsewhere.toString())
                .platform("test").build());
        assertTrue(result.ok(), result.errors().toString());
        assertEquals(2, result.configuration().integer(Setting.MANAGER_N_WORKERS));
    }
}
