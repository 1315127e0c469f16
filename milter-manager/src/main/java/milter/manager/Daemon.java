package milter.manager;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import milter.client.MilterFactory;
import milter.client.PidFile;
import milter.core.log.LogFormat;
import milter.core.log.LogLevels;
import milter.core.log.LogSetup;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.config.LoadRequest;
import milter.manager.config.LoadResult;
import milter.manager.config.RubyConfigurationLoader;
import milter.manager.config.Setting;
import milter.manager.controller.Controller;
import milter.manager.controller.ControllerActions;
import milter.manager.launcher.LaunchCommand;
import milter.manager.launcher.LaunchingChildConnector;
import milter.manager.launcher.ProcessLauncher;
import milter.manager.metrics.HealthReport;
import milter.manager.metrics.ManagerMetrics;
import milter.manager.metrics.Metrics;
import milter.manager.metrics.MetricsServer;
import sun.misc.Signal;

/**
 * The running daemon: listens, writes the pid file, handles signals (HUP reloads, USR1 reopens the log file,
 * INT/TERM stop gracefully and a second one at once) and cleans up on the way out. Around the manager: the child
 * launcher (privilege mode), the control socket ({@code controller.connection_spec}) and the metrics endpoint
 * ({@code manager.metrics_spec}), each started once at start-up as upstream starts its launcher and controller.
 */
final class Daemon {
    /** Set in the environment of the detached copy of the process, so that it does not detach again. */
    static final String DETACHED_ENV = "MILTER_MANAGER_DETACHED";
    /** How long a stop signal lets running sessions finish before closing them. */
    static final java.time.Duration STOP_GRACE = java.time.Duration.ofSeconds(
            Long.getLong("milter.manager.stop-grace-seconds", 30));
    /** A child that answered within this window counts as answering for {@code /ping}. */
    private static final long HEALTH_WINDOW_SECONDS = Long.getLong("milter.manager.health-window-seconds", 300);

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
    private final Instant startedAt = Instant.now();
    private volatile Configuration configuration;
    private volatile Instant loadedAt = startedAt;
    private volatile boolean listening;
    private MilterManager manager;
    private ProcessLauncher launcher;
    private ManagerMetrics metrics;
    private MetricsServer metricsServer;
    private Controller controller;

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
        Transport transport = Transport.best();
        ChildConnector connector = new ServerChildConnector(transport);
        if (configuration.bool(Setting.SECURITY_PRIVILEGE_MODE)) {
            launcher = ProcessLauncher.start();
            launcher.allow(configuration);
            connector = new LaunchingChildConnector(connector, launcher);
        }
        UnaryOperator<MilterFactory> sessions = UnaryOperator.identity();
        ConnectionSpec metricsSpec = configuration.spec(Setting.MANAGER_METRICS_SPEC);
        if (metricsSpec != null) {
            metrics = new ManagerMetrics(() -> manager == null ? 0 : manager.sessions().processing());
            metrics.configure(configuration);
            connector = Metrics.meter(connector, metrics);
            ManagerMetrics meters = metrics;
            sessions = factory -> Metrics.meter(factory, meters);
        }
        manager = new MilterManager(configuration, configuration.spec(Setting.MANAGER_CONNECTION_SPEC), transport,
                threads, connector, sessions);
        try {
            manager.start().toCompletableFuture().join();
            listening = true;
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            out.println("failed to listen: " + cause.getMessage());
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][prepare][listen][error]", String.valueOf(
                    cause.getMessage()));
            manager.close();
            closeHelpers();
            return 1;
        }
        manager.closeFuture().whenComplete((ignored, error) -> {
            listening = false;
            stopped.countDown();
        });
        startController(transport);
        startMetricsServer(transport, metricsSpec);
        String pidFile = configuration.string(Setting.MANAGER_PID_FILE);
        if (pidFile != null && !PidFile.save(Path.of(pidFile))) {
            manager.close();
            closeHelpers();
            return 0;
        }
        installSignals();
        stopped.await();
        closeHelpers();
        reloader.shutdownNow();
        if (pidFile != null) {
            PidFile.remove(Path.of(pidFile));
        }
        return 0;
    }

    private void startController(Transport transport) {
        try {
            controller = Controller.listen(configuration, transport, new Actions());
        } catch (IOException e) {
            // The daemon goes on without its controller, as upstream's does.
            String message = "failed to listen controller socket: " + e.getMessage();
            out.println(message);
            TaggedLogger.error(TaggedLogger.NO_SESSION, "", message);
        }
    }

    private void startMetricsServer(Transport transport, ConnectionSpec spec) {
        if (spec == null) {
            return;
        }
        try {
            metricsServer = MetricsServer.listen(spec, transport, metrics, this::health);
        } catch (IOException e) {
            out.println("failed to listen metrics socket: " + e.getMessage());
        }
    }

    private HealthReport health() {
        Configuration current = configuration;
        int enabled = 0;
        for (Egg egg : current.eggs()) {
            if (egg.enabled()) {
                enabled++;
            }
        }
        return new HealthReport(listening, enabled, metrics.childrenAnsweredWithin(current,
                TimeUnit.SECONDS.toNanos(HEALTH_WINDOW_SECONDS)), HEALTH_WINDOW_SECONDS);
    }

    private void closeHelpers() {
        if (controller != null) {
            controller.close();
        }
        if (metricsServer != null) {
            metricsServer.close();
        }
        if (launcher != null) {
            launcher.close();
        }
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
                .format(LogFormat.parse(config.string(Setting.LOG_FORMAT)))
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
        handle("HUP", () -> {
            try {
                reloader.execute(() -> {
                    String problem = reload();
                    if (problem != null) {
                        TaggedLogger.error(TaggedLogger.NO_SESSION, "[manager][reload][signal][error]", problem);
                    }
                });
            } catch (RejectedExecutionException e) {
                // Stopping.
            }
        });
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

    /**
     * A new snapshot for sessions that start from now on; a load with errors keeps the current one. Runs on the
     * reload thread (SIGHUP, controller), one at a time.
     *
     * @return null when the new configuration is in force, else why not
     */
    String reload() {
        try {
            LoadResult result = loader.load(request);
            if (!result.ok()) {
                String problem = "reload failed with " + result.errors().size() + " error(s): keeping the current"
                        + " configuration";
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[configuration][load][error]", problem);
                if (metrics != null) {
                    metrics.reloaded(false);
                }
                return problem + ": " + result.errors().get(0);
            }
            Configuration next = result.configuration();
            if (metrics != null) {
                metrics.configure(next);
            }
            if (launcher != null) {
                launcher.allow(next);
            }
            configuration = next;
            loadedAt = Instant.now();
            manager.reload(next);
            applyLogSettings(next);
            if (metrics != null) {
                metrics.reloaded(true);
            }
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[manager][reload]", "configuration reloaded");
            return null;
        } catch (RuntimeException e) {
            if (metrics != null) {
                metrics.reloaded(false);
            }
            return String.valueOf(e.getMessage());
        }
    }

    /** What the controller may do with this daemon. */
    private final class Actions implements ControllerActions {
        @Override
        public Configuration configuration() {
            return manager.configuration();
        }

        @Override
        public List<Path> loadPaths() {
            return request.loadPaths();
        }

        @Override
        public String reload() {
            try {
                return reloader.submit(Daemon.this::reload).get(10, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
                return String.valueOf(e.getMessage());
            }
        }

        @Override
        public String status() {
            StringBuilder text = new StringBuilder(512);
            Configuration current = configuration;
            line(text, "version", Main.VERSION);
            line(text, "pid", Long.toString(ProcessHandle.current().pid()));
            line(text, "started", startedAt.toString());
            line(text, "configuration-loaded", loadedAt.toString());
            line(text, "listening", manager.boundSpec().toString());
            line(text, "sessions-processing", Integer.toString(manager.sessions().processing()));
            line(text, "sessions-finished", Long.toString(manager.sessions().finishedTotal()));
            line(text, "privilege-mode", Boolean.toString(launcher != null));
            for (Egg egg : current.eggs()) {
                line(text, "milter", egg.name() + " " + (egg.enabled() ? "enabled" : "disabled") + " "
                        + (egg.connectionSpec() == null ? "-" : egg.connectionSpec().toString()));
            }
            if (launcher != null) {
                for (Map.Entry<String, Long> running : launcher.running().entrySet()) {
                    line(text, "launched", running.getValue() + " " + running.getKey());
                }
            }
            if (metricsServer != null) {
                line(text, "metrics", metricsServer.boundSpec().toString());
            }
            return text.toString();
        }

        private void line(StringBuilder text, String key, String value) {
            text.append(key).append(": ").append(value).append('\n');
        }

        @Override
        public String stopChild(String name) {
            Egg egg = configuration.egg(name);
            if (egg == null) {
                return "no milter named <" + name + ">";
            }
            LaunchCommand command = LaunchCommand.of(egg);
            if (command == null) {
                return "milter <" + name + "> has no command";
            }
            if (launcher == null) {
                return "children are launched only in privilege mode (security.privilege_mode = true)";
            }
            return launcher.stop(command);
        }
    }
}
