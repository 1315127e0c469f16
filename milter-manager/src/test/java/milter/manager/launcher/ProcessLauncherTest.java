package milter.manager.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import milter.core.net.ConnectionSpec;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.ops.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher with real processes (small shell scripts): allow list, already launched, output, failures. */
class ProcessLauncherTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path directory;

    private ProcessLauncher launcher;
    private LogCapture log;

    @BeforeEach
    void start() {
        log = new LogCapture();
        launcher = ProcessLauncher.start();
    }

    @AfterEach
    void stop() {
        launcher.close(true);
        log.close();
    }

    private Path script(String name, String body) throws Exception {
        Path file = directory.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        file.toFile().setExecutable(true);
        return file;
    }

    private static Egg egg(String name, String command, String options, String user) {
        return Egg.builder(name).connectionSpec(ConnectionSpec.parse("inet:1@[127.0.0.1]")).command(command)
                .commandOptions(options).userName(user).build();
    }

    private void allow(Egg... eggs) {
        Configuration.Builder builder = Configuration.builder();
        for (Egg egg : eggs) {
            builder.egg(egg);
        }
        launcher.allow(builder.build());
    }

    private static LaunchResult result(java.util.concurrent.CompletionStage<LaunchResult> stage) throws Exception {
        return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void commandRunsWithItsOptionsAndItsOutputIsLogged() throws Exception {
        Path marker = directory.resolve("marker");
        Path script = script("child", "echo started \"$@\"; echo oops >&2; touch " + marker);
        Egg egg = egg("child", script.toString(), "--port '20 27'", null);
        allow(egg);
        LaunchCommand command = LaunchCommand.of(egg);
        assertEquals(script + " --port '20 27'", command.commandLine());
        assertEquals("<" + script + " --port '20 27'>@<[current-user]>", command.describe());
        assertTrue(result(launcher.launch(command)).success());
        log.await("[launcher][output] <started --port 20 27>", WAIT);
        log.await("[launcher][error] <oops>", WAIT);
        log.await("[launcher][finish][success] <" + command.commandLine() + ">", WAIT);
        assertTrue(Files.exists(marker));
        assertTrue(log.find("[launcher][start] <" + command.commandLine() + ">") != null);
    }

    @Test
    void aCommandNotInTheConfigurationIsRefused() throws Exception {
        Path marker = directory.resolve("marker");
        Path script = script("child", "touch " + marker);
        allow(egg("other", "/bin/true", null, null));
        LaunchResult result = result(launcher.launch(new LaunchCommand(script.toString(), null)));
        assertFalse(result.success());
        assertEquals("not a start command of the configuration: <" + script + ">", result.message());
        assertEquals("[launcher][error][launch] <" + script + ">@<NULL>: not a start command of the configuration: <"
                + script + ">", log.find("[launcher][error][launch]"));
        assertFalse(Files.exists(marker));
    }

    @Test
    void aRunningCommandIsNotStartedAgainAndCanBeStopped() throws Exception {
        Path fifo = directory.resolve("count");
        Path script = script("child", "echo run >> " + fifo + "; exec sleep 600");
        Egg egg = egg("child", script.toString(), null, null);
        allow(egg);
        LaunchCommand command = LaunchCommand.of(egg);
        assertTrue(result(launcher.launch(command)).success());
        LaunchResult again = result(launcher.launch(command));
        assertFalse(again.success());
        assertEquals("already launched: <" + script + ">", again.message());
        Map<String, Long> running = launcher.running();
        assertEquals(1, running.size());
        long pid = running.get(script.toString());
        assertNull(launcher.stop(command));
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        log.await("[launcher][finish][failure]", WAIT);
        assertEquals("no running process launched for <" + script + ">", launcher.stop(command));
        assertEquals("run\n", Files.readString(fifo));
    }

    @Test
    void failingCommandsAreLoggedWithTheirTags() throws Exception {
        Path failing = script("failing", "exit 3");
        Egg exits = egg("exits", failing.toString(), null, null);
        Egg missing = egg("missing", directory.resolve("no-such-milter").toString(), "start", null);
        Egg broken = egg("broken", "/bin/echo", "'unclosed", null);
        Egg stranger = egg("stranger", "/bin/true", null, "no-such-user-for-milter-tests");
        allow(exits, missing, broken, stranger);

        assertTrue(result(launcher.launch(LaunchCommand.of(exits))).success());
        assertEquals("[launcher][finish][failure] 3: <" + failing + ">", log.await("[launcher][finish][failure]",
                WAIT));

        LaunchResult notFound = result(launcher.launch(LaunchCommand.of(missing)));
        assertFalse(notFound.success());
        assertTrue(notFound.message().startsWith("Couldn't start new process: <" + directory.resolve(
                "no-such-milter") + " start>: "), notFound.message());
        assertTrue(log.find("[launcher][error][launch] <" + directory.resolve("no-such-milter") + " start>@<NULL>: "
                + "Couldn't start new process") != null, log.lines().toString());

        LaunchResult unparsable = result(launcher.launch(LaunchCommand.of(broken)));
        assertEquals("Command string has invalid character(s): </bin/echo 'unclosed>: Text ended before matching"
                + " quote was found for '.", unparsable.message());

        LaunchResult unknownUser = result(launcher.launch(LaunchCommand.of(stranger)));
        assertEquals("No password entry: <no-such-milter-tests-user>".replace("no-such-milter-tests-user",
                "no-such-user-for-milter-tests"), unknownUser.message());
        assertTrue(log.find("[launcher][error][launch] </bin/true>@<no-such-user-for-milter-tests>: No password entry")
                != null, log.lines().toString());
    }

    @Test
    void anotherUserIsReachedThroughRunuserWhenRootElseRefused() throws Exception {
        Path marker = directory.resolve("whoami");
        // The other user must reach the script and write the marker.
        directory.toFile().setWritable(true, false);
        directory.toFile().setExecutable(true, false);
        Path script = script("who", "id -un > " + marker);
        script.toFile().setReadable(true, false);
        script.toFile().setExecutable(true, false);
        Egg egg = egg("who", script.toString(), null, "nobody");
        allow(egg);
        LaunchResult result = result(launcher.launch(LaunchCommand.of(egg)));
        if ("root".equals(System.getProperty("user.name"))) {
            assertTrue(result.success(), result.message());
            assertEquals("[launcher][finish][success] <" + script + ">", log.await("[launcher][finish]", WAIT));
            assertEquals("nobody\n", Files.readString(marker));
        } else {
            assertFalse(result.success());
            assertTrue(result.message().startsWith("can't run as <nobody>: the daemon runs as <"), result.message());
        }
    }
}
