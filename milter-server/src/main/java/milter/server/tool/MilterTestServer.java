package milter.server.tool;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevels;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.SocketFamily;
import milter.core.protocol.Status;
import milter.server.ServerOptions;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * {@code milter-test-server}: talks to a milter like an MTA would, with upstream's options and output
 * ({@code status: ...}, {@code elapsed-time: ... seconds}, and with {@code --output-message} the message as the
 * milter left it). Exit status 0 when the conversation ran to its end whatever the verdict, 1 when the milter
 * could not be reached, broke the protocol or timed out, or an option was wrong. With {@code --n-sessions} it
 * becomes a load generator (see {@link LoadRun}).
 */
@CommandLine.Command(name = "milter-test-server", sortOptions = false, versionProvider = MilterTestServer.Version.class,
        description = "Test a milter by talking to it like an MTA.")
public final class MilterTestServer implements java.util.concurrent.Callable<Integer> {
    static final String PROGRAM = "milter-test-server";
    private static final String DEFAULT_BODY = "La de da de da 1.\nLa de da de da 2.\nLa de da de da 3.\n"
            + "La de da de da 4.";

    @CommandLine.Option(names = "--name", paramLabel = "NAME", description = "Use NAME as the milter server name")
    String name = PROGRAM;

    @CommandLine.Option(names = {"-s", "--connection-spec"}, paramLabel = "SPEC",
            description = "The spec of client socket. (unix:PATH|inet:PORT[@HOST]|inet6:PORT[@HOST])")
    String spec;

    @CommandLine.Option(names = "--negotiate-version", paramLabel = "VERSION",
            description = "Use VERSION as milter protocol version on negotiate. (6)")
    int negotiateVersion = 6;

    @CommandLine.Option(names = "--connect-host", paramLabel = "HOST", description = "Use HOST as host name on connect")
    String connectHost = "mx.example.net";

    @CommandLine.Option(names = "--connect-address", paramLabel = "SPEC",
            description = "Use SPEC for address on connect. (unix:PATH|inet:PORT[@HOST]|inet6:PORT[@HOST])")
    String connectAddress;

    @CommandLine.Option(names = "--connect-macro", paramLabel = "NAME:VALUE",
            description = "Add a macro on xxfi_connect(). To add N macros, use --connect-macro option N times.")
    List<String> connectMacros = new ArrayList<>();

    @CommandLine.Option(names = "--helo-fqdn", paramLabel = "FQDN", description = "Use FQDN for HELO/EHLO command")
    String heloFqdn = "delian";

    @CommandLine.Option(names = "--helo-macro", paramLabel = "NAME:VALUE", description = "Add a macro on xxfi_helo().")
    List<String> heloMacros = new ArrayList<>();

    @CommandLine.Option(names = {"-f", "--envelope-from", "--from"}, paramLabel = "FROM", description = "Use FROM as a sender address")
    String envelopeFrom;

    @CommandLine.Option(names = "--envelope-from-macro", paramLabel = "NAME:VALUE", description = "Add a macro on xxfi_envfrom().")
    List<String> envelopeFromMacros = new ArrayList<>();

    @CommandLine.Option(names = {"-r", "--envelope-recipient", "--recipient"}, paramLabel = "RECIPIENT",
            description = "Add a recipient RECIPIENT. To add N recipients, use --envelope-recipient option N times.")
    List<String> recipients = new ArrayList<>();

    @CommandLine.Option(names = "--envelope-recipient-macro", paramLabel = "NAME:VALUE",
            description = "Add a macro on xxfi_envrcpt().")
    List<String> envelopeRecipientMacros = new ArrayList<>();

    @CommandLine.Option(names = "--data-macro", paramLabel = "NAME:VALUE", description = "Add a macro on xxfi_data().")
    List<String> dataMacros = new ArrayList<>();

    @CommandLine.Option(names = {"-h", "--header"}, paramLabel = "NAME:VALUE",
            description = "Add a header. To add n headers, use --header option n times.")
    List<String> headers = new ArrayList<>();

    @CommandLine.Option(names = "--end-of-header-macro", paramLabel = "NAME:VALUE", description = "Add a macro on xxfi_eoh().")
    List<String> endOfHeaderMacros = new ArrayList<>();

    @CommandLine.Option(names = {"-b", "--body"}, paramLabel = "CHUNK",
            description = "Add a body chunk. To add n body chunks, use --body option n times.")
    List<String> bodyChunks = new ArrayList<>();

    @CommandLine.Option(names = "--end-of-message-macro", paramLabel = "NAME:VALUE", description = "Add a macro on xxfi_eom().")
    List<String> endOfMessageMacros = new ArrayList<>();

    @CommandLine.Option(names = "--unknown", paramLabel = "COMMAND", description = "Use COMMAND for unknown SMTP command.")
    String unknown;

    @CommandLine.Option(names = "--authenticated-name", paramLabel = "NAME",
            description = "Use NAME for authenticated SASL login name. (This is used for {auth_authen} macro value.)")
    String authenticatedName;

    @CommandLine.Option(names = "--authenticated-type", paramLabel = "TYPE",
            description = "Use TYPE for authenticated SASL login method. (This is used for {auth_type} macro value.)")
    String authenticatedType;

    @CommandLine.Option(names = "--authenticated-author", paramLabel = "AUTHOR",
            description = "Use AUTHOR for authenticated SASL sender. (This is used for {auth_author} macro value.)")
    String authenticatedAuthor;

    @CommandLine.Option(names = {"-m", "--mail-file"}, paramLabel = "PATH", description = "Use mail placed at PATH as mail content.")
    String mailFile;

    @CommandLine.Option(names = "--output-message", description = "Output modified message")
    boolean outputMessage;

    @CommandLine.Option(names = "--color", paramLabel = "[yes|true|no|false|auto]", arity = "0..1", fallbackValue = "yes",
            description = "Output modified message with colors")
    String color = "auto";

    @CommandLine.Option(names = "--connection-timeout", paramLabel = "SECONDS",
            description = "Timeout after SECONDS seconds on connecting to a milter.")
    double connectionTimeout = ServerOptions.DEFAULT_CONNECTION_TIMEOUT.toSeconds();

    @CommandLine.Option(names = "--reading-timeout", paramLabel = "SECONDS",
            description = "Timeout after SECONDS seconds on reading a command.")
    double readingTimeout = ServerOptions.DEFAULT_READING_TIMEOUT.toSeconds();

    @CommandLine.Option(names = "--writing-timeout", paramLabel = "SECONDS",
            description = "Timeout after SECONDS seconds on writing a command.")
    double writingTimeout = ServerOptions.DEFAULT_WRITING_TIMEOUT.toSeconds();

    @CommandLine.Option(names = "--end-of-message-timeout", paramLabel = "SECONDS",
            description = "Timeout after SECONDS seconds on end-of-message command.")
    double endOfMessageTimeout = ServerOptions.DEFAULT_END_OF_MESSAGE_TIMEOUT.toSeconds();

    @CommandLine.Option(names = "--all-timeouts", paramLabel = "SECONDS",
            description = "Set all timeouts (connection-timeout, reading-timeout, writing-timeout, "
                    + "end-of-message-timeout)")
    Double allTimeouts;

    @CommandLine.Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Run N sessions at once and print each result.")
    int threads;

    @CommandLine.Option(names = "--n-sessions", paramLabel = "N",
            description = "Load mode: run N sessions and print throughput, latency and verdict counts.")
    Integer nSessions;

    @CommandLine.Option(names = "--concurrency", paramLabel = "C", description = "Load mode: at most C sessions at a time. (1)")
    int concurrency = 1;

    @CommandLine.Option(names = "--event-loop-threads", paramLabel = "T", description = "Event loop threads. (1)")
    int eventLoopThreads = 1;

    @CommandLine.Option(names = "--expected-status", paramLabel = "STATUS", split = ",",
            description = "Load mode: verdicts that count as success (pass, accept, reject, ...). (pass,accept)")
    List<String> expectedStatuses = new ArrayList<>(List.of("pass", "accept"));

    @CommandLine.Option(names = {"-v", "--verbose"}, description = "Be verbose")
    boolean verbose;

    @CommandLine.Option(names = "--help", usageHelp = true, description = "Show this help")
    boolean help;

    @CommandLine.Option(names = "--version", versionHelp = true, description = "Show version")
    boolean version;

    private PrintStream out;

    public static void main(String[] args) {
        configureLogging();
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the tool; output goes to {@code out} (bytes as given, no charset conversion), errors to {@code err}. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        MilterTestServer tool = new MilterTestServer();
        tool.out = out;
        CommandLine line = new CommandLine(tool);
        line.setOut(new java.io.PrintWriter(out, true));
        line.setErr(new java.io.PrintWriter(err, true));
        line.setParameterExceptionHandler((e, arguments) -> {
            out.println(e.getMessage());
            return 1;
        });
        line.setExecutionExceptionHandler((e, command, parsed) -> {
            out.println(e.getMessage() == null ? e.toString() : e.getMessage());
            return 1;
        });
        return line.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (verbose) {
            TaggedLogger.setLevels(LogLevels.ALL);
        }
        if (spec == null) {
            print("No spec set yet.\n");
            return 1;
        }
        ConnectionSpec connectionSpec = ConnectionSpec.parse(spec.startsWith("/") ? "unix:" + spec : spec);
        SessionPlan plan = plan();
        ServerOptions options = serverOptions(connectionSpec);
        Transport transport = Transport.best();
        int loopThreads = Math.max(1, eventLoopThreads);
        EventLoopGroup group = transport.newEventLoopGroup(loopThreads, PROGRAM);
        try {
            if (nSessions != null) {
                return load(plan, options, group, transport);
            }
            int count = Math.max(1, threads);
            List<CompletableFuture<SessionResult>> runs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerOptions sessionOptions = i == 0 ? options : options.withTag(milter.core.log.SessionIds.next());
                runs.add(new TestSession(plan, sessionOptions, group.next(), transport, plan.newMessage()).run()
                        .toCompletableFuture());
            }
            boolean success = true;
            StringBuilder text = new StringBuilder();
            for (CompletableFuture<SessionResult> run : runs) {
                SessionResult result = run.join();
                printResult(text, result);
                success &= result.succeeded();
            }
            print(text.toString());
            return success ? 0 : 1;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
            plan.release();
        }
    }

    private int load(SessionPlan plan, ServerOptions options, EventLoopGroup group, Transport transport) {
        Set<String> expected = new LinkedHashSet<>();
        for (String status : expectedStatuses) {
            String nick = status.trim().toLowerCase(Locale.ROOT);
            if (nick.equals("pass")) {
                expected.add(nick);
            } else {
                Status parsed = Status.fromNick(nick);
                expected.add(parsed.isPass() ? "pass" : parsed.nick());
            }
        }
        LoadRun.Report report = new LoadRun(plan, options, group, transport, nSessions, concurrency).run();
        StringBuilder text = new StringBuilder();
        report.print(text);
        print(text.toString());
        return report.passed(expected) ? 0 : 1;
    }

    private void printResult(StringBuilder text, SessionResult result) {
        if (result.error() != null) {
            text.append(result.error()).append('\n');
            return;
        }
        text.append("status: ").append(result.statusName());
        if (result.replyCode() != null) {
            text.append(' ').append(Formats.replyCode(result.replyCode()));
        }
        text.append('\n');
        text.append("elapsed-time: ").append(Formats.g(result.elapsedSeconds())).append(" seconds\n");
        if (result.quarantineReason() != null) {
            text.append("Quarantine reason: <").append(result.quarantineReason()).append(">\n");
        }
        if (outputMessage) {
            text.append('\n');
            result.message().print(text, useColor());
        }
    }

    private boolean useColor() {
        switch (color.toLowerCase(Locale.ROOT)) {
            case "yes":
            case "true":
                return true;
            case "no":
            case "false":
                return false;
            case "auto":
                return System.console() != null && System.getenv("TERM") != null
                        && !"dumb".equals(System.getenv("TERM"));
            default:
                throw new IllegalArgumentException("Invalid color value: " + color);
        }
    }

    /** Writes text whose chars are bytes (what the milter sent and the wire form of our arguments). */
    private void print(String text) {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1), 0, text.length());
        out.flush();
    }

    private ServerOptions serverOptions(ConnectionSpec connectionSpec) {
        ServerOptions options = ServerOptions.of(connectionSpec, name)
                .withConnectionTimeout(seconds(connectionTimeout, "--connection-timeout"))
                .withReadingTimeout(seconds(readingTimeout, "--reading-timeout"))
                .withWritingTimeout(seconds(writingTimeout, "--writing-timeout"))
                .withEndOfMessageTimeout(seconds(endOfMessageTimeout, "--end-of-message-timeout"));
        if (allTimeouts != null) {
            options = options.withAllTimeouts(seconds(allTimeouts, "--all-timeouts"));
        }
        return options;
    }

    private Duration seconds(double value, String option) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(option + " should be a positive number of seconds: " + value);
        }
        return Duration.ofNanos((long) (value * 1e9));
    }

    /** Turns the options into what every session sends, the way upstream fills in its defaults. */
    SessionPlan plan() throws IOException {
        List<TestMessage.Header> messageHeaders = new ArrayList<>();
        for (String header : headers) {
            int colon = header.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("headers option should be 'NAME:VALUE'");
            }
            messageHeaders.add(new TestMessage.Header(wire(header.substring(0, colon)),
                    wire(header.substring(colon + 1))));
        }
        String from = envelopeFrom == null ? null : wire(envelopeFrom);
        List<String> rcpts = new ArrayList<>();
        recipients.forEach(r -> rcpts.add(wire(r)));
        List<String> chunks = new ArrayList<>();
        bodyChunks.forEach(c -> chunks.add(wire(c)));
        if (mailFile != null) {
            byte[] contents = mailFile.equals("-") ? System.in.readAllBytes() : readMailFile(mailFile);
            MailFile mail = MailFile.parse(contents);
            messageHeaders.addAll(mail.headers());
            if (from == null) {
                from = mail.envelopeFrom();
            }
            if (rcpts.isEmpty()) {
                rcpts.addAll(mail.recipients());
            }
            if (chunks.isEmpty()) {
                chunks.addAll(mail.bodyChunks());
            }
        }
        from = TestMessage.bracketed(from == null ? "sender@example.com" : from);
        if (rcpts.isEmpty()) {
            rcpts.add("receiver@example.org");
        }
        rcpts.replaceAll(TestMessage::bracketed);
        if (messageHeaders.stream().noneMatch(h -> h.name().equals("From"))) {
            messageHeaders.add(new TestMessage.Header("From", from));
        }
        if (messageHeaders.stream().noneMatch(h -> h.name().equals("To"))) {
            messageHeaders.add(new TestMessage.Header("To", rcpts.get(0)));
        }
        if (chunks.isEmpty() && mailFile == null) {
            chunks.add(DEFAULT_BODY);
        }
        Option offer = Option.offer(negotiateVersion);
        return new SessionPlan(offer, connectCommand(), wire(heloFqdn), from, rcpts,
                unknown == null ? null : wire(unknown), messageHeaders, chunks, macros());
    }

    private static byte[] readMailFile(String path) {
        Path file = Path.of(path);
        if (!Files.exists(file)) {
            throw new IllegalArgumentException(path + " does not exist.");
        }
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("Loading from " + path + " failed.: " + e.getMessage(), e);
        }
    }

    private Command.Connect connectCommand() throws UnknownHostException {
        String host = wire(connectHost);
        if (connectAddress == null) {
            return new Command.Connect(host, SocketFamily.INET, 50443, "192.168.123.123");
        }
        ConnectionSpec address = ConnectionSpec.parse(connectAddress);
        if (address instanceof ConnectionSpec.Unix unix) {
            return new Command.Connect(host, SocketFamily.UNIX, 0, unix.path().toString());
        }
        ConnectionSpec.Inet inet = (ConnectionSpec.Inet) address;
        String ip = inet.host() == null ? (inet.ipv6() ? "::" : "0.0.0.0")
                : InetAddress.getByName(inet.host()).getHostAddress();
        if (inet.ipv6()) {
            return new Command.Connect(host, SocketFamily.INET6, inet.port(), "IPv6:" + ip);
        }
        return new Command.Connect(host, SocketFamily.INET, inet.port(), ip);
    }

    private Map<CommandType, Map<String, String>> macros() {
        Map<CommandType, Map<String, String>> macros = new EnumMap<>(CommandType.class);
        Map<String, String> connect = table(macros, CommandType.CONNECT);
        MacroTable.put(connect, "{daemon_name}", PROGRAM);
        MacroTable.put(connect, "{if_name}", "localhost");
        MacroTable.put(connect, "{if_addr}", "127.0.0.1");
        MacroTable.put(connect, "j", "mail.example.com");
        Map<String, String> helo = table(macros, CommandType.HELO);
        MacroTable.put(helo, "{tls_version}", "0");
        MacroTable.put(helo, "{cipher}", "0");
        MacroTable.put(helo, "{cipher_bits}", "0");
        MacroTable.put(helo, "{cert_subject}", "cert_subject");
        MacroTable.put(helo, "{cert_issuer}", "cert_issuer");
        Map<String, String> from = table(macros, CommandType.ENVELOPE_FROM);
        MacroTable.put(from, "{mail_mailer}", "mail_mailer");
        MacroTable.put(from, "{mail_host}", "mail_host");
        MacroTable.put(from, "{mail_addr}", "mail_addr");
        Map<String, String> recipient = table(macros, CommandType.ENVELOPE_RECIPIENT);
        MacroTable.put(recipient, "{rcpt_mailer}", "rcpt_mailer");
        MacroTable.put(recipient, "{rcpt_host}", "rcpt_host");
        MacroTable.put(table(macros, CommandType.DATA), "i", "i");
        MacroTable.put(table(macros, CommandType.END_OF_HEADER), "i", "i");
        MacroTable.put(table(macros, CommandType.END_OF_MESSAGE), "i", "i");
        addAll(connect, connectMacros);
        addAll(helo, heloMacros);
        addAll(from, envelopeFromMacros);
        addAll(recipient, envelopeRecipientMacros);
        addAll(macros.get(CommandType.DATA), dataMacros);
        addAll(macros.get(CommandType.END_OF_HEADER), endOfHeaderMacros);
        addAll(macros.get(CommandType.END_OF_MESSAGE), endOfMessageMacros);
        if (authenticatedName != null) {
            MacroTable.put(from, "{auth_authen}", wire(authenticatedName));
        }
        if (authenticatedType != null) {
            MacroTable.put(from, "{auth_type}", wire(authenticatedType));
        }
        if (authenticatedAuthor != null) {
            MacroTable.put(from, "{auth_author}", wire(authenticatedAuthor));
        }
        return macros;
    }

    private static Map<String, String> table(Map<CommandType, Map<String, String>> macros, CommandType stage) {
        return macros.computeIfAbsent(stage, s -> MacroTable.newTable());
    }

    private void addAll(Map<String, String> table, List<String> definitions) {
        for (String definition : definitions) {
            int colon = definition.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException(
                        "macro name and value delimiter ':' doesn't exist: <" + definition + ">");
            }
            MacroTable.put(table, wire(definition.substring(0, colon)), wire(definition.substring(colon + 1)));
        }
    }

    /** An argument as wire bytes (UTF-8), one char per byte like every protocol string. */
    static String wire(String argument) {
        return new String(argument.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    /** Log lines go to stderr, so that stdout carries only the result. */
    static void configureLogging() {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        context.reset();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%msg%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(appender);
        context.getLogger(TaggedLogger.LOGGER_NAME).setLevel(Level.TRACE);
    }

    /** {@code --version}: the version of the jar, when it has one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = MilterTestServer.class.getPackage().getImplementationVersion();
            return new String[] {PROGRAM + " " + (version == null ? "0.1.0" : version)};
        }
    }
}
