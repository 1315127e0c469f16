package milter.manager.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import milter.core.log.TaggedLogger;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;

/**
 * Starts child milters on demand (privilege mode, {@code milter.command}), as upstream's launcher process does:
 * a command line still running is not started again ({@code already launched}), its output goes to the debug
 * log ({@code [PID] [launcher][output]}, {@code [PID] [launcher][error]}), its end is logged
 * ({@code [launcher][finish][success]}, or {@code [launcher][finish][failure]} at error level for a non-zero
 * status).
 *
 * <p>Everything runs on one dedicated thread: {@link #launch} only queues the request, so a session's event loop
 * never waits for a fork. Only commands of the current configuration's eggs are run ({@link #allow}); a request
 * for any other command line is refused.
 *
 * <p>Java cannot change its user. When {@code milter.user_name} names a user other than the daemon's, the
 * launcher runs the command through {@code runuser -u USER --} (or {@code setpriv}) if the daemon runs as root,
 * and refuses with an error otherwise.
 */
public final class ProcessLauncher implements AutoCloseable {
    private static final List<Path> RUNUSER = List.of(Path.of("/usr/sbin/runuser"), Path.of("/sbin/runuser"),
            Path.of("/usr/bin/runuser"));
    private static final List<Path> SETPRIV = List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));

    private final ExecutorService thread;
    private final String currentUser;
    /** Touched only on {@link #thread}. */
    private final Map<String, Launched> running = new LinkedHashMap<>();
    private volatile Set<LaunchCommand> allowed = Set.of();

    private ProcessLauncher() {
        this.thread = Executors.newSingleThreadExecutor(runnable -> {
            Thread t = new Thread(runnable, "milter-manager-launcher");
            t.setDaemon(true);
            return t;
        });
        this.currentUser = System.getProperty("user.name");
    }

    /** Starts the launcher's thread ({@code [process-launcher][start]}). */
    public static ProcessLauncher start() {
        ProcessLauncher launcher = new ProcessLauncher();
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[process-launcher][start]",
                () -> "<" + launcher.currentUser + ">");
        return launcher;
    }

    /** From now on only the start commands of {@code configuration}'s eggs may be run. */
    public void allow(Configuration configuration) {
        Set<LaunchCommand> commands = new HashSet<>();
        for (Egg egg : configuration.eggs()) {
            LaunchCommand command = LaunchCommand.of(egg);
            if (command != null) {
                commands.add(command);
            }
        }
        allowed = Set.copyOf(commands);
    }

    /**
     * Queues a launch; never blocks. The stage completes (on the launcher's thread) with the outcome, which is
     * also logged: {@code [launcher][error][launch] <CMD>@<USER|NULL>: MESSAGE} for a refusal or failure.
     */
    public CompletionStage<LaunchResult> launch(LaunchCommand command) {
        CompletableFuture<LaunchResult> result = new CompletableFuture<>();
        try {
            thread.execute(() -> result.complete(launchNow(command)));
        } catch (RejectedExecutionException e) {
            result.complete(LaunchResult.error("the launcher is stopped"));
        }
        return result;
    }

    private LaunchResult launchNow(LaunchCommand command) {
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[launcher][launch]", command::describe);
        String problem = problem(command);
        List<String> argv = null;
        if (problem == null) {
            try {
                argv = commandFor(command);
            } catch (LaunchException e) {
                problem = e.getMessage();
            }
        }
        if (problem == null) {
            problem = spawn(command, argv);
        }
        if (problem != null) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[launcher][error][launch]", "<" + command.commandLine()
                    + ">@<" + (command.userName() == null ? "NULL" : command.userName()) + ">: " + problem);
            return LaunchResult.error(problem);
        }
        return LaunchResult.SUCCESS;
    }

    private String problem(LaunchCommand command) {
        if (!allowed.contains(command)) {
            return "not a start command of the configuration: <" + command.commandLine() + ">";
        }
        Launched launched = running.get(command.commandLine());
        if (launched != null && launched.process.isAlive()) {
            return "already launched: <" + command.commandLine() + ">";
        }
        return null;
    }

    /** The argument vector to run: the split command line, behind runuser/setpriv when another user is asked. */
    private List<String> commandFor(LaunchCommand command) throws LaunchException {
        List<String> words;
        try {
            words = CommandLineSplitter.split(command.commandLine());
        } catch (IllegalArgumentException e) {
            throw new LaunchException("Command string has invalid character(s): <" + command.commandLine() + ">: "
                    + e.getMessage());
        }
        String user = command.userName();
        if (user == null || user.equals(currentUser)) {
            return words;
        }
        try {
            FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(user);
        } catch (UserPrincipalNotFoundException e) {
            throw new LaunchException("No password entry: <" + user + ">");
        } catch (IOException e) {
            throw new LaunchException("No password entry: <" + user + ">: " + e.getMessage());
        }
        if (!"root".equals(currentUser)) {
            throw new LaunchException("can't run as <" + user + ">: the daemon runs as <" + currentUser
                    + ">, not root (Java can't switch users; run the daemon as <" + user
                    + "> or drop milter.user_name)");
        }
        List<String> argv = new ArrayList<>();
        Path runuser = firstExisting(RUNUSER);
        Path setpriv = firstExisting(SETPRIV);
        if (runuser != null) {
            argv.addAll(List.of(runuser.toString(), "-u", user, "--"));
        } else if (setpriv != null) {
            argv.addAll(List.of(setpriv.toString(), "--reuid=" + user, "--regid=" + primaryGroup(user),
                    "--init-groups", "--"));
        } else {
            throw new LaunchException("can't run as <" + user + ">: neither runuser nor setpriv is installed");
        }
        argv.addAll(words);
        return argv;
    }

    private static String primaryGroup(String user) throws LaunchException {
        try {
            Process id = new ProcessBuilder("id", "-g", user).redirectErrorStream(true).start();
            String output = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (id.waitFor() != 0 || !output.matches("\\d+")) {
                throw new LaunchException("can't find the group of <" + user + ">: " + output);
            }
            return output;
        } catch (IOException e) {
            throw new LaunchException("can't find the group of <" + user + ">: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LaunchException("interrupted");
        }
    }

    private static Path firstExisting(List<Path> candidates) {
        for (Path candidate : candidates) {
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private String spawn(LaunchCommand command, List<String> argv) {
        Process process;
        try {
            process = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                    "/dev/null"))).start();
        } catch (IOException | RuntimeException e) {
            return "Couldn't start new process: <" + command.commandLine() + ">: " + e.getMessage();
        }
        long pid = process.pid();
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[launcher][start]", () -> "<" + command.commandLine()
                + ">: " + pid);
        Launched launched = new Launched(command, process);
        running.put(command.commandLine(), launched);
        pump(process.getInputStream(), pid, "[launcher][output]");
        pump(process.getErrorStream(), pid, "[launcher][error]");
        process.onExit().thenAccept(ended -> {
            try {
                thread.execute(() -> finished(launched));
            } catch (RejectedExecutionException e) {
                // Closing: nothing to track any more.
            }
        });
        return null;
    }

    /** Copies a stream of the child to the debug log, line by line, on its own short-lived thread. */
    private static void pump(InputStream stream, long pid, String tags) {
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    String text = line;
                    TaggedLogger.debug(pid, tags, () -> "<" + text + ">");
                }
            } catch (IOException ignored) {
                // The child closed its end.
            }
        }, "milter-manager-launcher-" + pid);
        reader.setDaemon(true);
        reader.start();
    }

    private void finished(Launched launched) {
        if (running.get(launched.command.commandLine()) == launched) {
            running.remove(launched.command.commandLine());
        }
        int status = launched.process.exitValue();
        if (status == 0) {
            TaggedLogger.debug(TaggedLogger.NO_SESSION, "[launcher][finish][success]",
                    () -> "<" + launched.command.commandLine() + ">");
        } else {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[launcher][finish][failure]", status + ": <"
                    + launched.command.commandLine() + ">");
        }
    }

    /**
     * Stops the running process started for {@code command} (SIGTERM, then SIGKILL after 10 seconds). Blocks:
     * never call it on an event loop.
     *
     * @return null when a process was stopped, else why not
     */
    public String stop(LaunchCommand command) {
        Process process = call(() -> {
            Launched launched = running.get(command.commandLine());
            return launched == null || !launched.process.isAlive() ? null : launched.process;
        });
        if (process == null) {
            return "no running process launched for <" + command.commandLine() + ">";
        }
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while stopping <" + command.commandLine() + ">";
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[launcher][stop]", "<" + command.commandLine() + ">: "
                + process.pid());
        return null;
    }

    /** The command lines of the processes running now, with their process ids. Blocks briefly. */
    public Map<String, Long> running() {
        Map<String, Long> result = call(() -> {
            Map<String, Long> now = new LinkedHashMap<>();
            running.forEach((line, launched) -> {
                if (launched.process.isAlive()) {
                    now.put(line, launched.process.pid());
                }
            });
            return now;
        });
        return result == null ? Map.of() : result;
    }

    private <T> T call(java.util.concurrent.Callable<T> task) {
        try {
            return thread.submit(task).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * Stops the launcher's thread. Processes it started keep running (they are milters, often daemons), as with
     * upstream; {@code stopProcesses} ends them too (tests).
     */
    public void close(boolean stopProcesses) {
        if (stopProcesses) {
            for (String line : running().keySet()) {
                Launched launched = call(() -> running.get(line));
                if (launched != null) {
                    stop(launched.command);
                }
            }
        }
        thread.shutdown();
        try {
            thread.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[process-launcher][stop]", "");
    }

    @Override
    public void close() {
        close(false);
    }

    private static final class Launched {
        final LaunchCommand command;
        final Process process;

        Launched(LaunchCommand command, Process process) {
            this.command = command;
            this.process = process;
        }
    }

    private static final class LaunchException extends Exception {
        LaunchException(String message) {
            super(message);
        }
    }
}
