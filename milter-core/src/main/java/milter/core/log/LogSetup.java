package milter.core.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.Appender;
import io.netty.channel.epoll.Epoll;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Configures logback for the daemon and the tools, in code: no XML is read. Outputs:
 * <ul>
 *   <li>the main output: standard output, or the file {@code log.path}, in upstream's file form
 *       ({@link TaggedLayout}); {@link #reopen()} closes and reopens that file for log rotation (SIGUSR1);</li>
 *   <li>syslog (when enabled): RFC 3164 datagrams ({@link SyslogDatagramAppender}) to {@code /dev/log} when it
 *       exists and Netty's native epoll transport is available, otherwise over UDP to {@code 127.0.0.1:514}.</li>
 * </ul>
 * Logger {@value TaggedLogger#LOGGER_NAME} is set to TRACE, letting every level through to the outputs, whose
 * {@link LevelSetFilter}s apply upstream's level sets; other loggers (Netty, JRuby, ...) stay at WARN unless
 * {@code debug} or {@code trace} is wanted, then DEBUG.
 *
 * <p>One setup is in force per process; {@link Builder#install()} replaces the previous one (a configuration
 * reload installs a new setup), {@link #uninstall()} goes back to the defaults of
 * {@link DefaultLogConfigurator}.
 */
public final class LogSetup {
    /** The local syslog socket. */
    public static final Path DEV_LOG = Path.of("/dev/log");
    /** Where syslog datagrams go when {@link #DEV_LOG} can't be used. */
    public static final InetSocketAddress SYSLOG_UDP = new InetSocketAddress("127.0.0.1", 514);

    static final String MAIN_APPENDER = "milter-main";
    static final String SYSLOG_APPENDER = "milter-syslog";

    private static LogSetup current;

    private final LoggerContext context;
    private final LogOutputAppender main;
    private final SyslogDatagramAppender syslog;
    private final LogFormat format;
    private volatile boolean installed = true;

    private LogSetup(LoggerContext context, LogOutputAppender main, SyslogDatagramAppender syslog, LogFormat format) {
        this.context = context;
        this.main = main;
        this.syslog = syslog;
        this.format = format;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The setup in force, or null when none was installed (the defaults are in force). */
    public static synchronized LogSetup current() {
        return current;
    }

    /**
     * Closes and reopens the log file (SIGUSR1). Logs {@code [logger][reopen][close]} and
     * {@code [logger][reopen][open]}; when the file can't be opened, {@code [logger][reopen][open][warning]
     * <PATH>: ERROR} and standard output is used from then on. Nothing happens when there is no log file.
     *
     * @return whether a log file is open afterwards
     */
    public synchronized boolean reopen() {
        return installed && main.reopen();
    }

    /** The log file written to, or null for standard output. */
    public String path() {
        return main.getPath();
    }

    /** How the main output writes lines. */
    public LogFormat format() {
        return format;
    }

    /** The syslog appender, or null when syslog is off. */
    public SyslogDatagramAppender syslog() {
        return syslog;
    }

    /** Sets the main level set; logback's level for other loggers follows. */
    public void setLevels(int mask) {
        TaggedLogger.setLevels(mask);
    }

    /** Removes this setup's outputs and goes back to the defaults (tagged lines on standard output). */
    public void uninstall() {
        synchronized (LogSetup.class) {
            if (!installed) {
                return;
            }
            installed = false;
            if (current == this) {
                current = null;
            }
            TaggedLogger.onLevelsChanged(null);
            detachAll(context);
            DefaultLogConfigurator.installDefaults(context, Map.of());
        }
    }

    /** The sender for syslog by default: {@code /dev/log} when it can be used, else UDP to localhost. */
    public static SyslogSender defaultSyslogSender() {
        if (Files.exists(DEV_LOG) && Epoll.isAvailable()) {
            try {
                return new UnixDatagramSyslogSender(DEV_LOG);
            } catch (RuntimeException e) {
                // Fall through to UDP: a syslog daemon may still listen there.
            }
        }
        return new UdpSyslogSender(SYSLOG_UDP);
    }

    static LoggerContext loggerContext() {
        ILoggerFactory factory = LoggerFactory.getILoggerFactory();
        if (!(factory instanceof LoggerContext)) {
            throw new IllegalStateException("logging is not backed by logback: " + factory.getClass().getName());
        }
        return (LoggerContext) factory;
    }

    /** Attaches {@code appenders} to the root and the tagged logger; the latter lets every level through. */
    static void attach(LoggerContext context, List<Appender<ILoggingEvent>> appenders) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        Logger tagged = context.getLogger(TaggedLogger.LOGGER_NAME);
        tagged.setLevel(Level.TRACE);
        tagged.setAdditive(false);
        for (Appender<ILoggingEvent> appender : appenders) {
            root.addAppender(appender);
            tagged.addAppender(appender);
        }
        followLevels(context);
    }

    static void detachAll(LoggerContext context) {
        context.getLogger(TaggedLogger.LOGGER_NAME).detachAndStopAllAppenders();
        context.getLogger(Logger.ROOT_LOGGER_NAME).detachAndStopAllAppenders();
    }

    /** Other loggers: WARN, or DEBUG when an output wants debug or trace lines. */
    static void followLevels(LoggerContext context) {
        int wanted = TaggedLogger.wantedLevels();
        boolean debug = LogLevels.contains(wanted, LogLevel.DEBUG) || LogLevels.contains(wanted, LogLevel.TRACE);
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(debug ? Level.DEBUG : Level.WARN);
    }

    /** Writes a tagged line straight to an appender, for use while logback itself is being configured. */
    static void emitDirect(LoggerContext context, Appender<ILoggingEvent> appender, LogLevel level, String line) {
        LoggingEvent event = new LoggingEvent(LogSetup.class.getName(), context.getLogger(TaggedLogger.LOGGER_NAME),
                level == LogLevel.WARNING ? Level.WARN : Level.INFO, line, null, null);
        event.addMarker(LogMarkers.of(level));
        appender.doAppend(event);
    }

    /** The settings of a setup; {@link #install()} puts them in force. */
    public static final class Builder {
        private int levels = LogLevels.DEFAULT;
        private String path;
        private boolean timestamp = true;
        private LogFormat format = LogFormat.TEXT;
        private boolean syslog;
        private SyslogFacility syslogFacility = SyslogFacility.MAIL;
        private String syslogIdent = "milter-manager";
        private int syslogLevels = TaggedLogger.FOLLOW_MAIN;
        private SyslogSender syslogSender;
        private Clock clock;
        private PrintStream stdout;

        private Builder() {
        }

        /** The main level set ({@link LogLevels}); default {@code default}. */
        public Builder levels(int levels) {
            this.levels = levels;
            return this;
        }

        /** The log file; null or {@code -} (the default) is standard output. */
        public Builder path(String path) {
            this.path = path;
            return this;
        }

        /** Whether main-output lines start with the time (default true). */
        public Builder timestamp(boolean timestamp) {
            this.timestamp = timestamp;
            return this;
        }

        /** How the main output writes lines (default {@link LogFormat#TEXT}); syslog always gets the text form. */
        public Builder format(LogFormat format) {
            this.format = java.util.Objects.requireNonNull(format, "format");
            return this;
        }

        /** Whether lines also go to syslog (default false here; the daemon's {@code log.use_syslog}). */
        public Builder syslog(boolean syslog) {
            this.syslog = syslog;
            return this;
        }

        /** The facility by name ({@link SyslogFacility#parse}: unknown names give mail). */
        public Builder syslogFacility(String facility) {
            this.syslogFacility = SyslogFacility.parse(facility);
            return this;
        }

        public Builder syslogFacility(SyslogFacility facility) {
            this.syslogFacility = facility;
            return this;
        }

        /** The syslog ident (default {@code milter-manager}). */
        public Builder syslogIdent(String ident) {
            this.syslogIdent = ident;
            return this;
        }

        /** Syslog's own level set, or {@link TaggedLogger#FOLLOW_MAIN} (the default). */
        public Builder syslogLevels(int mask) {
            this.syslogLevels = mask;
            return this;
        }

        /** Where syslog datagrams go instead of {@link #defaultSyslogSender()}; closed on uninstall. */
        public Builder syslogSender(SyslogSender sender) {
            this.syslogSender = sender;
            return this;
        }

        /** The clock of the main output's times and of syslog times (tests pin it). */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** The stream standing for standard output (tests capture it). */
        public Builder stdout(PrintStream stdout) {
            this.stdout = stdout;
            return this;
        }

        /**
         * Puts the setup in force, replacing the previous one. When the log file can't be opened, logs
         * {@code [logger][path][set][warning] failed to set log output path: <PATH>: ERROR} and uses standard
         * output, as upstream.
         */
        public LogSetup install() {
            LoggerContext context = loggerContext();
            LogSetup setup;
            synchronized (LogSetup.class) {
                if (current != null) {
                    current.installed = false;
                    current = null;
                }
                TaggedLogger.onLevelsChanged(null);
                detachAll(context);
                TaggedLogger.setLevels(levels);
                TaggedLogger.setSyslogLevels(syslog ? syslogLevels : TaggedLogger.FOLLOW_MAIN);

                List<Appender<ILoggingEvent>> appenders = new ArrayList<>();
                LogOutputAppender main = mainAppender(context);
                appenders.add(main);
                SyslogDatagramAppender syslogAppender = null;
                if (syslog) {
                    syslogAppender = syslogAppender(context);
                    appenders.add(syslogAppender);
                }
                attach(context, appenders);
                TaggedLogger.onLevelsChanged(() -> followLevels(context));
                setup = new LogSetup(context, main, syslogAppender, format);
                current = setup;
            }
            if (setup.main.getOpenError() != null) {
                TaggedLogger.warning(TaggedLogger.NO_SESSION, "[logger][path][set][warning]",
                        setup.main.getOpenError());
            }
            return setup;
        }

        private LogOutputAppender mainAppender(LoggerContext context) {
            TaggedEncoder encoder = new TaggedEncoder();
            if (format == LogFormat.JSON) {
                encoder.setLayout(new JsonLineLayout());
            }
            encoder.getLayout().setTimestamp(timestamp);
            encoder.getLayout().setClock(clock);
            encoder.setContext(context);
            encoder.start();
            LogOutputAppender appender = new LogOutputAppender();
            appender.setName(MAIN_APPENDER);
            appender.setContext(context);
            appender.setEncoder(encoder);
            appender.setPath(path);
            appender.setStdout(stdout);
            appender.addFilter(new LevelSetFilter(TaggedLogger::levels));
            appender.start();
            return appender;
        }

        private SyslogDatagramAppender syslogAppender(LoggerContext context) {
            SyslogDatagramAppender appender = new SyslogDatagramAppender();
            appender.setName(SYSLOG_APPENDER);
            appender.setContext(context);
            appender.setIdent(syslogIdent);
            appender.setFacility(syslogFacility);
            if (clock != null) {
                appender.setClock(clock);
            }
            appender.setSender(syslogSender != null ? syslogSender : defaultSyslogSender());
            appender.addFilter(new LevelSetFilter(TaggedLogger::syslogLevels));
            appender.start();
            return appender;
        }
    }
}
