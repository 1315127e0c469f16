package milter.manager;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import milter.core.log.LogEnvironment;
import milter.core.log.LogFormat;
import milter.core.log.LogLevels;
import milter.core.log.LogSetup;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.manager.config.Configuration;
import milter.manager.config.ConfigurationDumper;
import milter.manager.config.ConfigurationError;
import milter.manager.config.LoadRequest;
import milter.manager.config.LoadResult;
import milter.manager.config.RubyConfigurationLoader;
import milter.manager.config.Setting;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code milter-manager}: the daemon's command line, with upstream's option names. Options that name a
 * configuration key override it and survive reloads, as upstream's do.
 */
@Command(name = "milter-manager", sortOptions = false, usageHelpAutoWidth = true,
        description = "Milter manager: one milter for the MTA, an MTA for every child milter.")
public final class Main implements Callable<Integer> {
    public static final String VERSION = "2.3.2";

    @Option(names = {"-c", "--config-dir"}, paramLabel = "DIR",
            description = "Load milter-manager.conf from DIR (or the file itself when a file is given).")
    Path configDir;

    @Option(names = "--show-config", description = "Show the configuration as it was loaded and exit.")
    boolean showConfig;

    @Option(names = "--check-config",
            description = "Check the configuration (syntax, values, connection specs, conditions) and exit: 0 if it"
                    + " is clean, 1 with the errors otherwise.")
    boolean checkConfig;

    @Option(names = {"-s", "--connection-spec"}, paramLabel = "SPEC",
            description = "Listen on SPEC (unix:PATH, inet:PORT@HOST, inet6:PORT@HOST).")
    String connectionSpec;

    @Option(names = "--log-level", paramLabel = "LEVEL",
            description = "Log level set: default|none|critical|error|warning|message|info|debug|trace|statistics"
                    + "|profile|all, combined with '|'.")
    String logLevel;

    @Option(names = "--log-path", paramLabel = "PATH", description = "Log to PATH ('-' is standard output).")
    String logPath;

    @Option(names = "--log-format", paramLabel = "FORMAT",
            description = "Lines on standard output or in the log file: text (upstream's, the default) or json (one"
                    + " JSON object per line). Overrides log.format.")
    String logFormat;

    @Option(names = {"-v", "--verbose"}, description = "Log everything (same as --log-level=all).")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "Log nothing (same as --log-level=none).")
    boolean quiet;

    @Option(names = "--syslog", description = "Also log to syslog.")
    boolean syslog;

    @Option(names = "--syslog-facility", paramLabel = "FACILITY", description = "Syslog facility (default: mail).")
    String syslogFacility;

    @Option(names = "--daemon", description = "Run as a daemon (detach from the terminal).")
    boolean daemon;

    @Option(names = "--no-daemon", description = "Stay in the foreground.")
    boolean noDaemon;

    @Option(names = {"-u", "--user", "--user-name"}, paramLabel = "NAME", description = "Effective user.")
    String userName;

    @Option(names = "--user-id", paramLabel = "ID", description = "Effective user by id.")
    Integer userId;

    @Option(names = {"-g", "--group", "--group-name"}, paramLabel = "NAME", description = "Effective group.")
    String groupName;

    @Option(names = "--group-id", paramLabel = "ID", description = "Effective group by id.")
    Integer groupId;

    @Option(names = "--unix-socket-group", paramLabel = "GROUP", description = "Group of the UNIX socket.")
    String unixSocketGroup;

    @Option(names = "--socket-group-name", paramLabel = "GROUP", hidden = true)
    String socketGroupName;

    @Option(names = "--unix-socket-mode", paramLabel = "MODE", description = "Mode of the UNIX socket (octal).")
    String unixSocketMode;

    @Option(names = "--n-workers", paramLabel = "N", description = "Number of worker processes (0-1000).")
    Integer nWorkers;

    @Option(names = "--event-loop-backend", paramLabel = "BACKEND",
            description = "glib or libev (accepted for compatibility; the event loop is Netty's).")
    String eventLoopBackend;

    @Option(names = "--packet-buffer-size", paramLabel = "SIZE",
            description = "Bytes of end-of-message packets to buffer before flushing.")
    Integer packetBufferSize;

    @Option(names = "--pid-file", paramLabel = "FILE", description = "Write the process id to FILE.")
    String pidFile;

    @Option(names = "--max-pending-finished-sessions", paramLabel = "N",
            description = "Clean up finished sessions when more than N are pending.")
    Integer maxPendingFinishedSessions;

    @Option(names = "--metrics-spec", paramLabel = "SPEC",
            description = "Serve Prometheus metrics (/metrics) and a health check (/ping) over HTTP on SPEC, e.g."
                    + " inet:9125@[127.0.0.1]. Overrides manager.metrics_spec; off by default.")
    String metricsSpec;

    @Option(names = "--threads", paramLabel = "N", description = "Event-loop threads (default: one per core).")
    int threads;

    @Option(names = "--version", description = "Show the version and exit.")
    boolean version;

    @Option(names = {"-h", "--help", "--help-all"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private final PrintWriter out;

    Main(PrintWriter out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true)));
    }

    /** Runs the command line and returns the exit status (the daemon returns when it stops). */
    static int run(String[] args, PrintWriter out) {
        CommandLine commandLine = new CommandLine(new Main(out));
        commandLine.setOut(out);
        commandLine.setErr(out);
        commandLine.setParameterExceptionHandler((error, arguments) -> {
            out.println(error.getMessage());
            if (error instanceof CommandLine.UnmatchedArgumentException) {
                error.getCommandLine().usage(out);
            }
            return 1;
        });
        commandLine.setExecutionExceptionHandler((error, line, parsed) -> {
            out.println("failed to start milter-manager process: " + error.getMessage());
            return 1;
        });
        return commandLine.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (version) {
            out.println("milter-manager " + VERSION);
            return 0;
        }
        String problem = checkOptions();
        if (problem != null) {
            out.println(problem);
            return 1;
        }
        LogEnvironment environment = LogEnvironment.current();
        int levels = environment.levels(initialLevels());
        LogSetup.builder().levels(levels).path(logPath != null ? logPath : environment.path(null))
                .format(logFormat == null ? LogFormat.TEXT : LogFormat.parse(logFormat)).install();
        if (socketGroupName != null) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][option][deprecated][--socket-group-name]",
                    "use --unix-socket-group instead");
        }

        LoadRequest request = loadRequest();
        RubyConfigurationLoader loader = RubyConfigurationLoader.start();
        try {
            if (checkConfig) {
                return check(loader, request);
            }
            LoadResult result = loader.load(request);
            Configuration configuration = result.configuration();
            if (showConfig) {
                out.print(ConfigurationDumper.dump(configuration));
                out.flush();
                return 0;
            }
            return new Daemon(loader, request, configuration, daemonize(configuration), threads, out).run();
        } finally {
            loader.close();
        }
    }

    private int check(RubyConfigurationLoader loader, LoadRequest request) {
        LoadResult result = loader.load(request);
        List<String> problems = new ArrayList<>();
        for (ConfigurationError error : result.errors()) {
            problems.add(error.toString());
        }
        for (milter.manager.config.Egg egg : result.configuration().eggs()) {
            if (egg.enabled() && egg.connectionSpec() == null) {
                problems.add("milter " + egg.name() + ": must set connection spec");
            }
            for (String condition : egg.applicableConditions()) {
                if (result.configuration().condition(condition) == null) {
                    problems.add("milter " + egg.name() + ": unknown applicable condition: " + condition);
                }
            }
        }
        if (problems.isEmpty()) {
            out.println("configuration is valid: " + String.join(", ", result.loadedFiles()));
            return 0;
        }
        problems.forEach(out::println);
        return 1;
    }

    private String checkOptions() {
        if (nWorkers != null && (nWorkers < 0 || nWorkers > 1000)) {
            return "--n-workers should be from 0 to 1000: " + nWorkers;
        }
        if (eventLoopBackend != null && !eventLoopBackend.equals("glib") && !eventLoopBackend.equals("libev")) {
            return "--event-loop-backend should be glib or libev: " + eventLoopBackend;
        }
        if (packetBufferSize != null && packetBufferSize < 0) {
            return "--packet-buffer-size should be 0 or more: " + packetBufferSize;
        }
        if (connectionSpec != null) {
            try {
                ConnectionSpec.parse(connectionSpec);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        if (unixSocketMode != null) {
            try {
                UnixSocketMode.parse(unixSocketMode);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        if (logFormat != null) {
            try {
                LogFormat.parse(logFormat);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        if (metricsSpec != null) {
            try {
                ConnectionSpec.parse(metricsSpec);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        if (logLevel != null) {
            try {
                LogLevels.parse(logLevel);
            } catch (IllegalArgumentException e) {
                return e.getMessage();
            }
        }
        return null;
    }

    private int initialLevels() {
        if (verbose) {
            return LogLevels.ALL;
        }
        if (quiet) {
            return LogLevels.NONE;
        }
        return logLevel == null ? LogLevels.DEFAULT : LogLevels.parse(logLevel);
    }

    /** Where milter-manager.conf is looked for, and the command-line values that override it. */
    LoadRequest loadRequest() {
        LoadRequest.Builder builder = LoadRequest.builder();
        List<Path> paths = new ArrayList<>();
        if (configDir != null) {
            if (Files.isRegularFile(configDir)) {
                Path parent = configDir.toAbsolutePath().getParent();
                paths.add(parent);
                builder.file(configDir.getFileName().toString());
            } else {
                paths.add(configDir);
            }
        }
        String environmentDir = System.getenv("MILTER_MANAGER_CONFIG_DIR");
        if (environmentDir != null && !environmentDir.isEmpty()) {
            paths.add(Path.of(environmentDir));
        }
        paths.add(Path.of(System.getProperty("milter.manager.sysconfdir", "/etc/milter-manager")));
        builder.loadPaths(paths);
        override(builder, Setting.MANAGER_CONNECTION_SPEC, connectionSpec);
        override(builder, Setting.MANAGER_PID_FILE, pidFile);
        override(builder, Setting.SECURITY_EFFECTIVE_USER, userName != null ? userName
                : userId == null ? null : Integer.toString(userId));
        override(builder, Setting.SECURITY_EFFECTIVE_GROUP, groupName != null ? groupName
                : groupId == null ? null : Integer.toString(groupId));
        override(builder, Setting.MANAGER_UNIX_SOCKET_GROUP, unixSocketGroup != null ? unixSocketGroup
                : socketGroupName);
        override(builder, Setting.MANAGER_UNIX_SOCKET_MODE, unixSocketMode == null ? null
                : UnixSocketMode.parse(unixSocketMode));
        override(builder, Setting.MANAGER_N_WORKERS, nWorkers);
        override(builder, Setting.MANAGER_EVENT_LOOP_BACKEND, eventLoopBackend);
        override(builder, Setting.MANAGER_MAX_PENDING_FINISHED_SESSIONS, maxPendingFinishedSessions);
        if (daemon) {
            builder.override(Setting.MANAGER_DAEMON, true);
        } else if (noDaemon) {
            builder.override(Setting.MANAGER_DAEMON, false);
        }
        override(builder, Setting.MANAGER_PACKET_BUFFER_SIZE, packetBufferSize);
        if (syslog) {
            builder.override(Setting.LOG_USE_SYSLOG, true);
        }
        override(builder, Setting.LOG_SYSLOG_FACILITY, syslogFacility);
        override(builder, Setting.LOG_FORMAT, logFormat);
        override(builder, Setting.MANAGER_METRICS_SPEC, metricsSpec);
        return builder.build();
    }

    private static void override(LoadRequest.Builder builder, Setting setting, Object value) {
        if (value != null) {
            builder.override(setting, value);
        }
    }

    private boolean daemonize(Configuration configuration) {
        return configuration.bool(Setting.MANAGER_DAEMON) && System.getenv(Daemon.DETACHED_ENV) == null;
    }

    /** Upstream accepts octal numbers and chmod-style symbolic modes for the socket mode. */
    static final class UnixSocketMode {
        private UnixSocketMode() {
        }

        static int parse(String text) {
            String value = text.trim();
            if (value.matches("0?[0-7]{1,4}")) {
                return Integer.parseInt(value, 8);
            }
            int mode = 0;
            for (String clause : value.split(",")) {
                java.util.regex.Matcher matcher = java.util.regex.Pattern.compile("([ugoa]*)([=+])([rwx]*)")
                        .matcher(clause.trim());
                if (!matcher.matches()) {
                    throw new IllegalArgumentException("invalid UNIX socket mode: <" + text + ">");
                }
                String who = matcher.group(1).isEmpty() ? "a" : matcher.group(1);
                int bits = 0;
                for (char c : matcher.group(3).toCharArray()) {
                    bits |= c == 'r' ? 4 : c == 'w' ? 2 : 1;
                }
                for (char c : who.toCharArray()) {
                    int shift = c == 'u' ? 6 : c == 'g' ? 3 : c == 'o' ? 0 : -1;
                    if (shift < 0) {
                        mode |= bits << 6 | bits << 3 | bits;
                    } else {
                        mode |= bits << shift;
                    }
                }
            }
            return mode;
        }
    }

    static Map<String, String> environment() {
        return System.getenv();
    }
}
