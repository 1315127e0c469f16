package milter.client.tool;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import milter.client.MilterClient;
import milter.client.PidFile;
import milter.core.log.LogLevels;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code milter-test-client}: a milter that prints what an MTA sends it, as upstream's tool does, and that can be
 * scripted from the command line (replies, delays, negotiation, end-of-message modifications) so tests can run a
 * child milter without writing Java.
 */
@Command(name = "milter-test-client", sortOptions = false, usageHelpWidth = 110,
        description = {"A milter that reports the commands it receives and answers as scripted.",
            "STATUS is continue, accept, reject, temporary-failure (tempfail), discard, skip (body only) or an SMTP"
                + " reply such as '554 5.7.1 Go away' (an invalid reply code is answered as plain reject or"
                + " temporary-failure by its class)."})
public final class MilterTestClient {
    static final String VERSION = "milter-test-client 0.1.0";
    static final String DEFAULT_SPEC = "inet:10025@[127.0.0.1]";

    @Option(names = {"-s", "--connection-spec"}, paramLabel = "SPEC",
            description = "The spec of socket. (unix:PATH|inet:PORT[@HOST]|inet6:PORT[@HOST]). Default:"
                    + " $MILTER_DEFAULT_CONNECTION_SPEC or " + DEFAULT_SPEC)
    String connectionSpec;

    @Option(names = "--no-report-request", description = "Don't report request values")
    boolean noReportRequest;

    @Option(names = "--report-memory-profile", description = "Report memory usage when a session finishes")
    boolean reportMemoryProfile;

    @Option(names = "--quiet", description = "Print nothing per session (for benchmarks); errors are still logged")
    boolean quiet;

    @Option(names = "--log-level", paramLabel = "LEVEL", description = "Set log level to LEVEL, combined with '|':"
            + " (all|default|none|critical|error|warning|message|info|debug|trace|statistics|profile)")
    String logLevel;

    @Option(names = {"-v", "--verbose"}, description = "Be verbose (log level all)")
    boolean verbose;

    @Option(names = "--unix-socket-mode", paramLabel = "MODE",
            description = "Change UNIX domain socket mode to MODE (octal, default: 0660)")
    String unixSocketMode;

    @Option(names = "--unix-socket-group", paramLabel = "GROUP", description = "Change UNIX domain socket group to"
            + " GROUP")
    String unixSocketGroup;

    @Option(names = "--socket-group-name", paramLabel = "GROUP",
            description = "Change UNIX domain socket group to GROUP (deprecated: use --unix-socket-group)")
    String socketGroupName;

    @Option(names = "--no-remove-unix-socket-on-close", description = "Keep the UNIX domain socket file at exit")
    boolean keepUnixSocket;

    @Option(names = "--pid-file", paramLabel = "FILE", description = "Put PID to FILE (default: disabled)")
    Path pidFile;

    @Option(names = "--max-connections", paramLabel = "N",
            description = "Suspend accepting while N connections are processed (default: 0, unlimited)")
    int maxConnections;

    @Option(names = "--suspend-time", paramLabel = "SECONDS",
            description = "How long accepting is suspended when the limit is reached (default: 5)")
    double suspendTime = 5;

    @Option(names = "--timeout", paramLabel = "SECONDS",
            description = "Close a connection whose MTA stays silent for SECONDS (default: 7210; 0 disables)")
    double timeout = 7210;

    @Option(names = "--threads", paramLabel = "N", description = "Event loop threads (default: one per core)")
    int threads;

    @Option(names = "--n-sessions", paramLabel = "N", description = "Exit after N sessions have finished")
    long nSessions;

    @Option(names = "--version", versionHelp = true, description = "Show version")
    boolean version;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help")
    boolean help;

    @Option(names = "--negotiate-flags", paramLabel = "FLAGS", description = "Protocol flags to ask for, combined"
            + " with '|': no-connect, no-helo, no-envelope-from, no-envelope-recipient, no-body, no-headers,"
            + " no-end-of-header, no-unknown, no-data, no-reply-connect, no-reply-helo, no-reply-envelope-from,"
            + " no-reply-envelope-recipient, no-reply-data, no-reply-unknown, no-reply-header,"
            + " no-reply-end-of-header, no-reply-body, skip, envelope-recipient-rejected,"
            + " header-value-with-leading-space (flags the MTA did not offer are dropped as libmilter does)")
    String negotiateFlags;

    @Option(names = "--negotiate-actions", paramLabel = "ACTIONS", description = "Actions to ask for, combined"
            + " with '|' (add-headers, change-body, add-envelope-recipient, delete-envelope-recipient,"
            + " change-headers, quarantine, change-envelope-from, add-envelope-recipient-with-parameters);"
            + " default: every offered action")
    String negotiateActions;

    @Option(names = "--negotiate-macros", paramLabel = "STAGE:NAMES", description = "Ask for these macros at"
            + " STAGE (connect, helo, envelope-from, envelope-recipient, data, end-of-header, end-of-message),"
            + " e.g. 'connect:j {daemon_name}'. Repeatable")
    List<String> negotiateMacros = new ArrayList<>();

    @Option(names = "--reply-connect", paramLabel = "STATUS", description = "Reply to connect")
    String replyConnect;
    @Option(names = "--reply-helo", paramLabel = "STATUS", description = "Reply to HELO")
    String replyHelo;
    @Option(names = "--reply-envelope-from", paramLabel = "STATUS", description = "Reply to MAIL FROM")
    String replyEnvelopeFrom;
    @Option(names = "--reply-envelope-recipient", paramLabel = "[<ADDRESS>:]STATUS",
            description = "Reply to RCPT TO, for one recipient (e.g. '<bad@example.com>:reject') or all. Repeatable")
    List<String> replyEnvelopeRecipient = new ArrayList<>();
    @Option(names = "--reply-data", paramLabel = "STATUS", description = "Reply to DATA")
    String replyData;
    @Option(names = "--reply-unknown", paramLabel = "STATUS", description = "Reply to an unknown SMTP command")
    String replyUnknown;
    @Option(names = "--reply-header", paramLabel = "[NAME:]STATUS",
            description = "Reply to a header, by name (e.g. 'Subject:reject') or to all. Repeatable")
    List<String> replyHeader = new ArrayList<>();
    @Option(names = "--reply-end-of-header", paramLabel = "STATUS", description = "Reply to end of header")
    String replyEndOfHeader;
    @Option(names = "--reply-body", paramLabel = "STATUS", description = "Reply to each body chunk")
    String replyBody;
    @Option(names = "--reply-end-of-message", paramLabel = "STATUS",
            description = "Final reply to end of message (after the modifications)")
    String replyEndOfMessage;

    @Option(names = "--delay-negotiate", paramLabel = "SECONDS", description = "Answer negotiate after SECONDS")
    double delayNegotiate;
    @Option(names = "--delay-connect", paramLabel = "SECONDS", description = "Answer connect after SECONDS")
    double delayConnect;
    @Option(names = "--delay-helo", paramLabel = "SECONDS", description = "Answer HELO after SECONDS")
    double delayHelo;
    @Option(names = "--delay-envelope-from", paramLabel = "SECONDS", description = "Answer MAIL after SECONDS")
    double delayEnvelopeFrom;
    @Option(names = "--delay-envelope-recipient", paramLabel = "SECONDS", description = "Answer RCPT after SECONDS")
    double delayEnvelopeRecipient;
    @Option(names = "--delay-data", paramLabel = "SECONDS", description = "Answer DATA after SECONDS")
    double delayData;
    @Option(names = "--delay-unknown", paramLabel = "SECONDS", description = "Answer unknown after SECONDS")
    double delayUnknown;
    @Option(names = "--delay-header", paramLabel = "SECONDS", description = "Answer each header after SECONDS")
    double delayHeader;
    @Option(names = "--delay-end-of-header", paramLabel = "SECONDS",
            description = "Answer end of header after SECONDS")
    double delayEndOfHeader;
    @Option(names = "--delay-body", paramLabel = "SECONDS", description = "Answer each body chunk after SECONDS")
    double delayBody;
    @Option(names = "--delay-end-of-message", paramLabel = "SECONDS",
            description = "Send the modifications and answer end of message after SECONDS")
    double delayEndOfMessage;

    @Option(names = "--add-header", paramLabel = "NAME:VALUE", description = "Add a header at end of message."
            + " Repeatable, as every modification option; modifications go out in this order: progress, add,"
            + " insert, change, delete header, add, delete recipient, change from, replace body, quarantine")
    List<String> addHeader = new ArrayList<>();
    @Option(names = "--insert-header", paramLabel = "INDEX:NAME:VALUE", description = "Insert a header at INDEX")
    List<String> insertHeader = new ArrayList<>();
    @Option(names = "--change-header", paramLabel = "INDEX:NAME:VALUE",
            description = "Change the INDEX-th (1-based) header NAME")
    List<String> changeHeader = new ArrayList<>();
    @Option(names = "--delete-header", paramLabel = "INDEX:NAME", description = "Delete the INDEX-th header NAME")
    List<String> deleteHeader = new ArrayList<>();
    @Option(names = "--add-recipient", paramLabel = "ADDRESS[ PARAMETERS]",
            description = "Add a recipient (with ESMTP parameters: sent as add-recipient with parameters)")
    List<String> addRecipient = new ArrayList<>();
    @Option(names = "--delete-recipient", paramLabel = "ADDRESS", description = "Delete a recipient")
    List<String> deleteRecipient = new ArrayList<>();
    @Option(names = "--change-from", paramLabel = "ADDRESS[ PARAMETERS]", description = "Change the sender")
    String changeFrom;
    @Option(names = "--replace-body", paramLabel = "TEXT", description = "Replace the body with TEXT")
    String replaceBody;
    @Option(names = "--quarantine", paramLabel = "REASON", description = "Quarantine the message")
    String quarantine;
    @Option(names = "--progress", paramLabel = "N", description = "Send N progress packets first (default: 0)")
    int progress;

    private final Map<String, String> environment;
    private final PrintStream out;

    MilterTestClient(Map<String, String> environment, PrintStream out) {
        this.environment = environment;
        this.out = out;
    }

    /** A started tool, or the exit status when it stopped at once (help, version, bad option, listen failure). */
    record Launch(int exitStatus, MilterClient client, Path pidFile) {
    }

    public static void main(String[] args) {
        configureConsoleLogging();
        Launch launch = launch(args, System.getenv(), System.out);
        if (launch.client() == null) {
            System.exit(launch.exitStatus());
        }
        MilterClient client = launch.client();
        Thread hook = new Thread(client::close, "milter-test-client-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        client.closeFuture().toCompletableFuture().join();
        if (launch.pidFile() != null) {
            PidFile.remove(launch.pidFile());
        }
        System.exit(0);
    }

    /**
     * Tagged lines go to standard output one per line, as upstream prints them; other libraries only report
     * warnings. A logback configuration given with {@code -Dlogback.configurationFile} is left alone.
     */
    private static void configureConsoleLogging() {
        if (System.getProperty("logback.configurationFile") != null
                || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        context.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(console);
        // The tagged logger filters by upstream's level set itself.
        context.getLogger(TaggedLogger.LOGGER_NAME).setLevel(Level.TRACE);
    }

    /** Parses {@code args} and starts listening; the caller waits on (or closes) the returned client. */
    static Launch launch(String[] args, Map<String, String> environment, PrintStream out) {
        MilterTestClient tool = new MilterTestClient(environment, out);
        CommandLine commandLine = new CommandLine(tool);
        commandLine.setOut(new java.io.PrintWriter(out, true));
        commandLine.setErr(new java.io.PrintWriter(out, true));
        try {
            commandLine.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            out.println(e.getMessage());
            commandLine.usage(out);
            return new Launch(1, null, null);
        }
        if (commandLine.isUsageHelpRequested()) {
            commandLine.usage(out);
            return new Launch(0, null, null);
        }
        if (commandLine.isVersionHelpRequested()) {
            out.println(VERSION);
            return new Launch(0, null, null);
        }
        try {
            return tool.start();
        } catch (IllegalArgumentException e) {
            out.println(e.getMessage());
            return new Launch(1, null, null);
        }
    }

    private Launch start() {
        if (quiet) {
            // Nothing per session, not even the statistics line.
            TaggedLogger.setLevels(LogLevels.parse("critical|error|warning"));
        }
        if (verbose) {
            TaggedLogger.setLevels(LogLevels.ALL);
        }
        if (logLevel != null) {
            TaggedLogger.setLevels(LogLevels.parse(logLevel));
        }
        if (socketGroupName != null) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][option][deprecated][--socket-group-name]",
                    "use --unix-socket-group instead");
            if (unixSocketGroup == null) {
                unixSocketGroup = socketGroupName;
            }
        }
        ConnectionSpec spec = connectionSpec();
        if (spec == null) {
            return new Launch(1, null, null);
        }
        Script script = script();
        AtomicLong finished = new AtomicLong();
        MilterClient[] holder = new MilterClient[1];
        boolean report = !quiet && !noReportRequest;
        boolean memory = !quiet && reportMemoryProfile;
        Runnable onClosed = () -> {
            if (nSessions > 0 && finished.incrementAndGet() == nSessions) {
                holder[0].closeAsync();
            }
        };
        MilterClient.Builder builder = MilterClient.builder(spec,
                context -> new TestClientMilter(script, out, report, memory, onClosed))
                .maxConnections(maxConnections)
                .suspendTime(seconds(suspendTime, "--suspend-time"))
                .idleTimeout(seconds(timeout, "--timeout"))
                .threads(threads)
                .unixSocketGroup(unixSocketGroup)
                .removeUnixSocketOnClose(!keepUnixSocket);
        if (unixSocketMode != null) {
            try {
                builder.unixSocketMode(Integer.parseInt(unixSocketMode, 8));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid UNIX socket mode: <" + unixSocketMode + ">");
            }
        }
        MilterClient client = builder.build();
        holder[0] = client;
        try {
            client.start().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][main][error]",
                    "failed to listen: <" + spec + ">: " + rootMessage(e));
            out.println("failed to listen: " + spec + ": " + rootMessage(e));
            client.close();
            return new Launch(1, null, null);
        }
        if (pidFile != null && !PidFile.save(pidFile)) {
            client.close();
            return new Launch(1, null, null);
        }
        return new Launch(0, client, pidFile);
    }

    private ConnectionSpec connectionSpec() {
        if (connectionSpec != null) {
            return ConnectionSpec.parse(connectionSpec);
        }
        String fallback = environment.getOrDefault("MILTER_DEFAULT_CONNECTION_SPEC", DEFAULT_SPEC);
        try {
            ConnectionSpec spec = ConnectionSpec.parse(fallback);
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[client][connection-spec][default]", "<" + fallback + ">");
            return spec;
        } catch (IllegalArgumentException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][connection-spec][default][error]",
                    "<" + fallback + ">: " + e.getMessage());
            out.println(e.getMessage());
            return null;
        }
    }

    private Script script() {
        Script script = new Script();
        putReply(script, Script.Stage.CONNECT, replyConnect);
        putReply(script, Script.Stage.HELO, replyHelo);
        putReply(script, Script.Stage.ENVELOPE_FROM, replyEnvelopeFrom);
        putReply(script, Script.Stage.DATA, replyData);
        putReply(script, Script.Stage.UNKNOWN, replyUnknown);
        putReply(script, Script.Stage.END_OF_HEADER, replyEndOfHeader);
        putReply(script, Script.Stage.BODY, replyBody);
        putReply(script, Script.Stage.END_OF_MESSAGE, replyEndOfMessage);
        for (String text : replyEnvelopeRecipient) {
            Map.Entry<String, Reply> entry = Script.parseRecipientReply(text);
            if (entry.getKey() == null) {
                script.replies.put(Script.Stage.ENVELOPE_RECIPIENT, entry.getValue());
            } else {
                script.recipientReplies.put(entry.getKey(), entry.getValue());
            }
        }
        for (String text : replyHeader) {
            Map.Entry<String, Reply> entry = Script.parseHeaderReply(text);
            if (entry.getKey() == null) {
                script.replies.put(Script.Stage.HEADER, entry.getValue());
            } else {
                script.headerReplies.put(entry.getKey(), entry.getValue());
            }
        }
        putDelay(script, Script.Stage.NEGOTIATE, delayNegotiate);
        putDelay(script, Script.Stage.CONNECT, delayConnect);
        putDelay(script, Script.Stage.HELO, delayHelo);
        putDelay(script, Script.Stage.ENVELOPE_FROM, delayEnvelopeFrom);
        putDelay(script, Script.Stage.ENVELOPE_RECIPIENT, delayEnvelopeRecipient);
        putDelay(script, Script.Stage.DATA, delayData);
        putDelay(script, Script.Stage.UNKNOWN, delayUnknown);
        putDelay(script, Script.Stage.HEADER, delayHeader);
        putDelay(script, Script.Stage.END_OF_HEADER, delayEndOfHeader);
        putDelay(script, Script.Stage.BODY, delayBody);
        putDelay(script, Script.Stage.END_OF_MESSAGE, delayEndOfMessage);
        if (negotiateFlags != null) {
            script.protocolFlags = ProtocolFlags.parse(negotiateFlags);
        }
        if (negotiateActions != null) {
            script.actions = ActionFlags.parse(negotiateActions);
        }
        for (String text : negotiateMacros) {
            Map.Entry<milter.core.protocol.MacroStage, List<String>> entry = Script.parseMacroRequest(text);
            script.macroRequests.put(entry.getKey(), entry.getValue());
        }
        script.progress = progress;
        for (String text : addHeader) {
            String[] parts = Script.split(text, 2, "NAME:VALUE");
            script.modifications.add(() -> new Reply.AddHeader(parts[0], parts[1]));
        }
        for (String text : insertHeader) {
            String[] parts = Script.split(text, 3, "INDEX:NAME:VALUE");
            int index = Script.index(parts[0], "INDEX:NAME:VALUE");
            script.modifications.add(() -> new Reply.InsertHeader(index, parts[1], parts[2]));
        }
        for (String text : changeHeader) {
            String[] parts = Script.split(text, 3, "INDEX:NAME:VALUE");
            int index = Script.index(parts[0], "INDEX:NAME:VALUE");
            script.modifications.add(() -> new Reply.ChangeHeader(index, parts[1], parts[2]));
        }
        for (String text : deleteHeader) {
            String[] parts = Script.split(text, 2, "INDEX:NAME");
            int index = Script.index(parts[0], "INDEX:NAME");
            script.modifications.add(() -> new Reply.ChangeHeader(index, parts[1], ""));
        }
        for (String text : addRecipient) {
            String[] parts = Script.addressAndParameters(text);
            script.modifications.add(() -> parts[1] == null ? new Reply.AddRecipient(parts[0])
                    : new Reply.AddRecipientWithParameters(parts[0], parts[1]));
        }
        for (String text : deleteRecipient) {
            String address = text.trim();
            script.modifications.add(() -> new Reply.DeleteRecipient(address));
        }
        if (changeFrom != null) {
            String[] parts = Script.addressAndParameters(changeFrom);
            script.modifications.add(() -> new Reply.ChangeFrom(parts[0], parts[1]));
        }
        if (replaceBody != null) {
            String text = replaceBody;
            script.modifications.add(() -> Script.replaceBody(text));
        }
        if (quarantine != null) {
            String reason = quarantine;
            script.modifications.add(() -> new Reply.Quarantine(reason));
        }
        return script;
    }

    private static void putReply(Script script, Script.Stage stage, String text) {
        if (text != null) {
            script.replies.put(stage, Script.parseStatus(text));
        }
    }

    private static void putDelay(Script script, Script.Stage stage, double seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("--delay-" + stage.nick + " must not be negative: " + seconds);
        }
        if (seconds > 0) {
            script.delaysMillis.put(stage, Math.round(seconds * 1000));
        }
    }

    private static Duration seconds(double value, String option) {
        if (value < 0) {
            throw new IllegalArgumentException(option + " must not be negative: " + value);
        }
        return Duration.ofMillis(Math.round(value * 1000));
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return String.valueOf(cause.getMessage());
    }
}
