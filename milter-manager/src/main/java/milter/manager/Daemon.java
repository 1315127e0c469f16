package milter.manager;

import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import milter.client.PidFile;
import milter.core.log.LogLevels;
import milter.core.log.LogSetup;
import milter.core.log.TaggedLogger;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.LoadRequest;
import milter.manager.config.RubyConfigurationLoader;
import milter.manager.config.Setting;
import sun.misc.Signal;

/**
 * The running daemon: listens, writes the pid file, handles signals (HUP reloads, USR1 reopens the log file,
 * INT/TERM stop gracefully and a second one at once) and cleans up on the way out.
 */
final class Daemon {
    /** Set in the environment of the detached copy of the process, so that it does not detach again. */
    static final String DETACHED_ENV = "MILTER_MANAGER_DETACHED";
    /** How long a stop signal lets running sessions finish before closing them. */
    static final java.time.Duration STOP_GRACE = java.time.Duration.ofSeconds(
            Long.getLong("milter.manager.stop-grace-seconds", 30));

    private final RubyConfigurationLoader loader;
    private final LoadRequest request;
    private final boolean detach;
    private final int threads;
    private final PrintWriter out;
    private final ExecutorService reloader = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "milter-manager-reload");
        thread.setDaemon(true);
        return thread;
    });
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private Configuration configuration;
    private MilterManager manager;

    Daemon(RubyConfigurationLoader loader, LoadRequest request, Configuration configuration, boolean detach,
            int threads, PrintWriter out) {
        this.loader = loader;
        this.request = request;
        this.configuration = configuration;
        this.detach = detach;
        this.threads = threads;
        this.out = out;
    }

    int run() throws InterruptedException {
        if (detach) {
            return detach();
        }
        applyLogSettings(configuration);
        warnAboutPrivileges(configuration);
        manager = new MilterManager(configuration, configuration.spec(Setting.MANAGER_CONNECTION_SPEC),
                Transport.best(), threads);
        try {
            manager.start().toCompletableFuture().join();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            out.println("failed to listen: " + cause.getMessage());
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][prepare][listen][error]", String.valueOf(
                    cause.getMessage()));
            manager.close();
            return 1;
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[controller][disabled]", "connection spec isn't specified");
        String pidFile = configuration.string(Setting.MANAGER_PID_FILE);
        if (pidFile != null && !PidFile.save(Path.of(pidFile))) {
            manager.close();
            return 0;
        }
        installSignals();
        manager.closeFuture().whenComplete((ignored, error) -> stopped.countDown());
        stopped.await();
        reloader.shutdownNow();
        if (pidFile != null) {
            PidFile.remove(Path.of(pidFile));
        }
        return 0;
    }

    /** Upstream forks twice and detaches; here a copy of the process is started in a new session. */
    private int detach() {
        List<String> command = new ArrayList<>();
        command.add("setsid");
        command.add(ProcessHandle.current().info().command().orElse("java"));
        command.addAll(ProcessHandle.current().info().arguments().map(List::of).orElse(List.of()));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put(DETACHED_ENV, "1");
        builder.directory(new File("/"));
        File devNull = new File("/dev/null");
        builder.redirectInput(devNull).redirectOutput(ProcessBuilder.Redirect.appendTo(devNull))
                .redirectError(ProcessBuilder.Redirect.appendTo(devNull));
        try {
            builder.start();
            return 0;
        } catch (java.io.IOException e) {
            out.println("failed to daemonize: " + e.getMessage());
            return 1;
        }
    }

    private void applyLogSettings(Configuration config) {
        LogSetup current = LogSetup.current();
        if (config.location(Setting.LOG_LEVEL.key()) != null) {
            current.setLevels(LogLevels.parse(config.string(Setting.LOG_LEVEL)));
        }
        String path = config.location(Setting.LOG_PATH.key()) != null ? config.string(Setting.LOG_PATH)
                : current.path();
        boolean syslog = config.bool(Setting.LOG_USE_SYSLOG);
        String facility = config.string(Setting.LOG_SYSLOG_FACILITY);
        String environmentFacility = System.getenv("MILTER_LOG_SYSLOG_FACILITY");
        LogSetup.builder().levels(milter.core.log.TaggedLogger.levels()).path(path).syslog(syslog)
                .syslogFacility(environmentFacility != null ? environmentFacility : facility).install();
    }

    private void warnAboutPrivileges(Configuration config) {
        String user = config.string(Setting.SECURITY_EFFECTIVE_USER);
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root && user != null && !user.equals("root")) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[manager][privilege][warning]",
                    "cannot switch to <" + user + "> from Java: start the daemon as that user (systemd User=)");
        } else if (root) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[manager][privilege][warning]",
                    "running as root: start the daemon as a dedicated user (systemd User=)");
        }
    }

    private void installSignals() {
        handle("HUP", () -> reloader.execute(this::reload));
        handle("USR1", () -> {
            LogSetup setup = LogSetup.current();
            if (setup != null) {
                setup.reopen();
            }
        });
        Runnable stop = () -> {
            if (!stopping.compareAndSet(false, true)) {
                // A second signal: stop at once.
                Runtime.getRuntime().halt(0);
            }
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[manager][stop]",
                    "stop accepting; running sessions have " + STOP_GRACE.toSeconds() + " seconds to finish");
            manager.closeGracefully(STOP_GRACE);
        };
        handle("INT", stop);
        handle("TERM", stop);
    }

    private static void handle(String name, Runnable action) {
        try {
            Signal.handle(new Signal(name), signal -> action.run());
        } catch (IllegalArgumentException e) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[manager][signal][warning]",
                    "cannot handle SIG" + name + ": " + e.getMessage());
        }
    }

    /** SIGHUP: a new snapshot for sessions that start from now on; a failing load keeps the current one. */
    void reload() {
        try {
            Configuration next = loader.reload(configuration, request);
            if (next != configuration) {
                configuration = next;
                manager.reload(next);
                applyLogSettings(next);
                TaggedLogger.info(TaggedLogger.NO_SESSION, "[manager][reload]", "configuration reloaded");
            }
        } catch (RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[manager][reload][signal][error]", String.valueOf(
                    e.getMessage()));
        }
    }
}
