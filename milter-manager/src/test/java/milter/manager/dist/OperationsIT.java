package milter.manager.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import milter.core.net.ConnectionSpec;
import milter.manager.controller.ControlClient;
import milter.manager.controller.ControlPacket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations side of the assembled distribution: the control socket (every command, through the Java client
 * and the milter-manager-control launcher), children started on demand by the launcher, metrics and JSON logs
 * from the command line.
 */
class OperationsIT {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path config;

    private Path controllerSocket() {
        return config.resolve("controller.sock");
    }

    private void writeConfig(String text) throws IOException {
        Files.writeString(config.resolve("milter-manager.conf"), text);
    }

    private static String milter(String name, String spec, String extra) {
        return "define_milter(\"" + name + "\") do |milter|\n"
                + "  milter.connection_spec = \"" + spec + "\"\n" + extra
                + "end\n";
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private DistProcess session(String spec, String recipient, String... extra) throws Exception {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("-s", spec, "-f",
                "<from@example.org>", "-r", recipient, "--output-message"));
        args.addAll(java.util.List.of(extra));
        DistProcess server = DistProcess.start("milter-test-server", args.toArray(new String[0]));
        try {
            assertEquals(0, server.waitFor(WAIT), server.output());
        } catch (AssertionError | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    private DistProcess control(String... args) throws Exception {
        String[] all = new String[args.length + 2];
        all[0] = "-s";
        all[1] = "unix:" + controllerSocket();
        System.arraycopy(args, 0, all, 2, args.length);
        DistProcess control = DistProcess.start("milter-manager-control", all);
        try {
            control.waitFor(WAIT);
        } catch (AssertionError | RuntimeException e) {
            control.close();
            throw e;
        }
        return control;
    }

    @Test
    void everyControllerCommandAgainstARunningDaemon() throws Exception {
        try (DistProcess child = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1",
                "--log-level=info")) {
            int childPort = child.awaitListeningPort();
            writeConfig("manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                    + "controller.connection_spec = \"unix:" + controllerSocket() + "\"\n"
                    + "controller.unix_socket_mode = 0600\n"
                    + milter("child-a", "inet:" + childPort + "@[127.0.0.1]", ""));
            try (DistProcess manager = DistProcess.start("milter-manager", "-c", config.toString(), "--no-daemon",
                    "--log-level=default|info")) {
                String spec = "inet:" + manager.awaitListeningPort() + "@127.0.0.1";
                manager.awaitLine(Pattern.compile("\\[controller\\]\\[listen\\]\\[start\\] <unix:"), WAIT);
                assertFalse(manager.output().contains("[controller][disabled]"), manager.output());
                session(spec, "<to@example.com>");
                ConnectionSpec controllerSpec = ConnectionSpec.parse("unix:" + controllerSocket());
                try (ControlClient client = ControlClient.connect(controllerSpec, WAIT)) {
                    String xml = client.getConfiguration();
                    assertTrue(xml.contains("      <name>child-a</name>\n"), xml);
                    assertFalse(xml.contains("<last-modified>"), xml);

                    String status = client.getStatus();
                    assertTrue(status.contains("sessions-finished: 1\n"), status);
                    assertTrue(status.contains("milter: child-a enabled inet:" + childPort + "@[127.0.0.1]\n"),
                            status);

                    client.setConfiguration("<configuration>\n  <milters>\n    <milter>\n      <name>child-a</name>\n"
                            + "      <description>set by the controller</description>\n    </milter>\n"
                            + "  </milters>\n</configuration>\n");
                    assertTrue(Files.readString(config.resolve("milter-manager.custom.conf"))
                            .contains("set by the controller"));
                    assertFalse(client.getConfiguration().contains("set by the controller"), "no reload yet");

                    client.reload();
                    manager.awaitLine(Pattern.compile("\\[manager\\]\\[reload\\] configuration reloaded"), WAIT);
                    String reloaded = client.getConfiguration();
                    assertTrue(reloaded.contains("<description>set by the controller</description>"), reloaded);
                    assertTrue(reloaded.contains("<last-modified>"), reloaded);

                    ControlClient.ControlErrorException stop = org.junit.jupiter.api.Assertions.assertThrows(
                            ControlClient.ControlErrorException.class, () -> client.stopChild("child-a"));
                    assertEquals("milter <child-a> has no command", stop.getMessage());

                    client.send(ControlPacket.of("shutdown"));
                    assertTrue(client.getStatus().startsWith("version: "), "the unknown request got no reply");
                }
                manager.awaitLine(Pattern.compile("\\[\\d+\\] \\[agent\\]\\[error\\]\\[decode\\] Decode error: "
                        + "unexpected command was received: <shutdown>"), WAIT);

                DistProcess cli = control("get-status");
                assertTrue(cli.output().contains("sessions-finished: 1"), cli.output());
                DistProcess cliReload = control("reload");
                assertTrue(cliReload.output().contains("success"), cliReload.output());
                DistProcess cliBad = control("stop-child", "nobody-here");
                assertTrue(cliBad.output().contains("error: no milter named <nobody-here>"), cliBad.output());

                manager.signal("TERM");
                assertEquals(0, manager.waitFor(WAIT), manager.output());
                assertFalse(Files.exists(controllerSocket()), "the control socket is removed on close");
            }
        }
    }

    @Test
    void launcherStartsAChildOnDemandAndStopChildEndsIt() throws Exception {
        int port = freePort();
        String command = DistProcess.dist().resolve("bin/milter-test-client").toAbsolutePath().toString();
        writeConfig("security.privilege_mode = true\n"
                + "manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                + "controller.connection_spec = \"unix:" + controllerSocket() + "\"\n"
                + milter("launched", "inet:" + port + "@[127.0.0.1]",
                        "  milter.command = \"" + command + "\"\n"
                        + "  milter.command_options = \"-s inet:" + port + "@127.0.0.1 --log-level=info"
                        + " --add-header 'X-Launched:yes'\"\n")
                + milter("broken", "inet:" + freePort() + "@[127.0.0.1]",
                        "  milter.command = \"" + config.resolve("no-such-milter") + "\"\n"));
        try (DistProcess manager = DistProcess.start("milter-manager", "-c", config.toString(), "--no-daemon",
                "--log-level=default|info|debug")) {
            String spec = "inet:" + manager.awaitListeningPort() + "@127.0.0.1";
            // The first session finds nobody listening: the launcher is asked, the engine retries after 5 s.
            session(spec, "<to@example.com>");
            manager.awaitLine(Pattern.compile("\\[children\\]\\[start-child\\] \\[\\d+\\] <" + Pattern.quote(command)
                    + " -s inet:" + port + "@127\\.0\\.0\\.1 .*>@<\\[current-user\\]>"), WAIT);
            manager.awaitLine(Pattern.compile("\\[launcher\\]\\[start\\] <" + Pattern.quote(command)), WAIT);
            manager.awaitLine(Pattern.compile("\\[launcher\\]\\[error\\]\\[launch\\] <" + Pattern.quote(
                    config.resolve("no-such-milter").toString()) + ">@<NULL>: Couldn't start new process"), WAIT);
            // The launched child says it listens (its output goes to the launcher's debug log).
            manager.awaitLine(Pattern.compile("\\[launcher\\]\\[output\\] <.*\\[client\\]\\[listen\\]\\[start\\] <inet:"
                    + port + "@"), WAIT);

            DistProcess second = session(spec, "<to@example.com>");
            assertTrue(second.output().contains("+ X-Launched: yes"), second.output() + "\n" + manager.output());

            DistProcess status = control("get-status");
            Matcher launched = Pattern.compile("launched: (\\d+) " + Pattern.quote(command)).matcher(status.output());
            assertTrue(launched.find(), status.output());
            long pid = Long.parseLong(launched.group(1));

            DistProcess stop = control("stop-child", "launched");
            assertTrue(stop.output().contains("success"), stop.output());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
            manager.awaitLine(Pattern.compile("\\[launcher\\]\\[stop\\] <" + Pattern.quote(command)), WAIT);

            manager.signal("TERM");
            assertEquals(0, manager.waitFor(WAIT), manager.output());
        }
    }

    @Test
    void metricsAndJsonLogsFromTheCommandLine() throws Exception {
        try (DistProcess child = DistProcess.start("milter-test-client", "-s", "inet:0@127.0.0.1",
                "--log-level=info", "--reply-envelope-recipient", "<bad@example.com>:reject")) {
            writeConfig("manager.connection_spec = \"inet:0@[127.0.0.1]\"\n"
                    + milter("child", "inet:" + child.awaitListeningPort() + "@[127.0.0.1]", ""));
            try (DistProcess manager = DistProcess.start("milter-manager", "-c", config.toString(), "--no-daemon",
                    "--log-level=default|info", "--log-format=json", "--metrics-spec=inet:0@[127.0.0.1]")) {
                Matcher listen = manager.awaitLine(Pattern.compile("^\\{\"time\":\"[^\"]+\",\"level\":\"info\","
                        + "\"session\":null,\"tags\":\\[\"client\",\"listen\",\"start\"\\],\"message\":"
                        + "\"<inet:(\\d+)@\\[127\\.0\\.0\\.1\\]>\"\\}$"), WAIT);
                String spec = "inet:" + listen.group(1) + "@127.0.0.1";
                Matcher metrics = manager.awaitLine(Pattern.compile("\"tags\":\\[\"metrics\",\"listen\",\"start\"\\],"
                        + "\"message\":\"<inet:(\\d+)@"), WAIT);
                String base = "http://127.0.0.1:" + metrics.group(1);
                HttpClient http = HttpClient.newHttpClient();
                String before = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(before.contains("milter_manager_sessions_started_total 0.0\n"), before);

                DistProcess reject = session(spec, "<bad@example.com>");
                assertTrue(reject.output().contains("status: reject"), reject.output());
                manager.awaitLine(Pattern.compile("\"level\":\"statistics\",\"session\":null,\"tags\":\\[\"session\","
                        + "\"end\",\"envelope-recipient\",\"reject\",\"[0-9.e+-]+\"\\],\"message\":\"\\(\\d+\\)\""),
                        WAIT);
                String after = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(after.contains("milter_manager_sessions_started_total 1.0\n"), after);
                assertTrue(after.contains("milter_manager_child_replies_total{milter=\"child\",status=\"reject\"}"
                        + " 1.0\n"), after);
                HttpResponse<String> ping = http.send(HttpRequest.newBuilder(URI.create(base + "/ping")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, ping.statusCode());
                assertEquals("{\"status\":\"up\",\"listener\":\"up\",\"children\":1,\"children_answered_recently\":1,"
                        + "\"window_seconds\":300}\n", ping.body());

                manager.signal("TERM");
                assertEquals(0, manager.waitFor(WAIT), manager.output());
            }
        }
    }
}
