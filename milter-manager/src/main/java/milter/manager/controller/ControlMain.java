package milter.manager.controller;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import milter.core.net.ConnectionSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code milter-manager-control}: sends one request to a running daemon's control socket and prints the reply.
 * Exit status 0 when the daemon answered success (or the asked data), 1 when it answered an error or the command
 * line is wrong, 2 when the socket cannot be reached or does not answer.
 */
@Command(name = "milter-manager-control", sortOptions = false, usageHelpAutoWidth = true,
        description = {"Send a request to milter-manager's control socket (controller.connection_spec).", "",
            "Commands:",
            "  get-configuration        print the configuration as XML",
            "  set-configuration FILE   store FILE ('-' = standard input) as milter-manager.custom.conf (no reload)",
            "  reload                   reload the configuration",
            "  get-status               print the daemon's status",
            "  stop-child NAME          stop the process the launcher started for milter NAME"})
public final class ControlMain implements Callable<Integer> {
    static final String DEFAULT_SPEC = "unix:/run/milter-manager/milter-manager-controller.sock";

    @Option(names = {"-s", "--connection-spec"}, paramLabel = "SPEC",
            description = "The control socket (default: $MILTER_MANAGER_CONTROLLER_SPEC or " + DEFAULT_SPEC + ").")
    String spec;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "How long to wait for the answer (default: ${DEFAULT-VALUE}).")
    double timeout;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(index = "0", paramLabel = "COMMAND")
    String command;

    @Parameters(index = "1", arity = "0..1", paramLabel = "ARGUMENT")
    String argument;

    private final PrintWriter out;
    private final PrintWriter err;

    ControlMain(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new ControlMain(out, err));
        commandLine.setOut(out);
        commandLine.setErr(err);
        return commandLine.execute(args);
    }

    @Override
    public Integer call() {
        ConnectionSpec target;
        try {
            target = ConnectionSpec.parse(spec != null ? spec : System.getenv().getOrDefault(
                    "MILTER_MANAGER_CONTROLLER_SPEC", DEFAULT_SPEC));
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 1;
        }
        ControlPacket request;
        try {
            request = request();
        } catch (IllegalArgumentException | IOException e) {
            err.println(e.getMessage());
            return 1;
        }
        try (ControlClient client = ControlClient.connect(target, Duration.ofMillis((long) (timeout * 1000)))) {
            ControlPacket reply = client.call(request);
            switch (reply.name()) {
                case ControlPacket.CONFIGURATION:
                case ControlPacket.STATUS:
                    out.print(reply.text());
                    if (!reply.text().endsWith("\n")) {
                        out.println();
                    }
                    out.flush();
                    return 0;
                case ControlPacket.SUCCESS:
                    out.println("success");
                    return 0;
                default:
                    err.println(reply.name() + ": " + reply.text());
                    return 1;
            }
        } catch (IOException e) {
            err.println("failed to talk to the controller <" + target + ">: " + e.getMessage());
            return 2;
        }
    }

    private ControlPacket request() throws IOException {
        switch (command) {
            case ControlPacket.GET_CONFIGURATION:
            case ControlPacket.RELOAD:
            case ControlPacket.GET_STATUS:
                if (argument != null) {
                    throw new IllegalArgumentException(command + " takes no argument");
                }
                return ControlPacket.of(command);
            case ControlPacket.SET_CONFIGURATION:
                if (argument == null) {
                    throw new IllegalArgumentException("set-configuration needs a FILE ('-' for standard input)");
                }
                try {
                    byte[] content = argument.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(
                            argument));
                    return new ControlPacket(command, content);
                } catch (IOException e) {
                    throw new IOException("can't read " + argument + ": " + e, e);
                }
            case ControlPacket.STOP_CHILD:
                if (argument == null) {
                    throw new IllegalArgumentException("stop-child needs the NAME of a milter");
                }
                return ControlPacket.of(command, argument);
            default:
                throw new IllegalArgumentException("unknown command: " + command
                        + " (get-configuration, set-configuration, reload, get-status, stop-child)");
        }
    }
}
