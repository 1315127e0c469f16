package milter.manager.condition;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import milter.core.log.TaggedLogger;

/**
 * Finds the "stress" threshold of the {@code Stress Notify} / {@code No Stress} conditions as upstream does:
 * when a Postfix {@code master} process runs, three quarters of the {@code smtp inet} service's {@code maxproc}
 * from {@code master.cf} (or of {@code default_process_limit} from {@code postconf} when maxproc is {@code -});
 * 0 (never stressed) for Sendmail or when no MTA is found. Runs processes and reads files: call it off event
 * loops.
 */
public final class PostfixThresholdDetector {
    private static final Pattern MASTER = Pattern.compile("/lib(?:exec)?/postfix/master\\b");
    private static final Pattern POSTCONF_LINE = Pattern.compile("\\A(\\w+)\\s*=\\s*(.*?)\\s*\\z");

    private final Supplier<List<String>> processes;
    private final PostconfRunner postconf;

    /** Runs {@code postconf} and answers its standard output, or null when it failed. */
    @FunctionalInterface
    public interface PostconfRunner {
        String run(String command);
    }

    /** Looks at the processes of this machine and runs the real {@code postconf}. */
    public PostfixThresholdDetector() {
        this(PostfixThresholdDetector::processCommandLines, PostfixThresholdDetector::runPostconf);
    }

    public PostfixThresholdDetector(Supplier<List<String>> processes, PostconfRunner postconf) {
        this.processes = processes;
        this.postconf = postconf;
    }

    /** The threshold in sessions; 0 means "never stressed". Logs what it found as upstream does. */
    public int detect() {
        List<String> commandLines = processes.get();
        String master = null;
        for (String line : commandLines) {
            if (line.contains("master") && line.toLowerCase(java.util.Locale.ROOT).contains("postfix")) {
                master = line;
                break;
            }
        }
        if (master != null) {
            int threshold = (int) (postfixProcessLimit(master) * 0.75);
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[breaker][detect][threshold][postfix]", "<" + threshold + ">");
            return threshold;
        }
        for (String line : commandLines) {
            if (line.contains("sendmail: ")) {
                TaggedLogger.info(TaggedLogger.NO_SESSION, "[breaker][detect][threshold][sendmail]", "<0>");
                return 0;
            }
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[breaker][detect][error][threshold]", "can't detect MTA");
        return 0;
    }

    private int postfixProcessLimit(String master) {
        String command = "postconf";
        Matcher matcher = MASTER.matcher(master);
        if (matcher.find()) {
            String prefix = master.substring(0, matcher.start()).trim();
            int space = prefix.lastIndexOf(' ');
            prefix = space < 0 ? prefix : prefix.substring(space + 1);
            Path candidate = Path.of(prefix + "/sbin/postconf");
            if (!prefix.isEmpty() && Files.isExecutable(candidate)) {
                command = candidate.toString();
            }
        }
        String output = postconf.run(command);
        if (output == null) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[breaker][detect][error][postfix][postconf]",
                    "failed to run postconf: <" + command + ">");
            output = "";
        }
        Integer defaultLimit = null;
        Path masterCf = null;
        for (String line : output.split("\n")) {
            Matcher entry = POSTCONF_LINE.matcher(line);
            if (!entry.matches()) {
                continue;
            }
            if (entry.group(1).equals("default_process_limit")) {
                defaultLimit = parseInt(entry.group(2));
            } else if (entry.group(1).equals("config_directory")) {
                masterCf = Path.of(entry.group(2), "master.cf");
            }
        }
        Integer limit = masterCf == null ? null : smtpMaxproc(masterCf);
        if (limit == null) {
            limit = defaultLimit;
        }
        return limit == null ? 0 : limit;
    }

    /** The maxproc column of the {@code smtp inet} line; null for {@code -} or when absent. */
    static Integer smtpMaxproc(Path masterCf) {
        List<String> lines;
        try {
            lines = Files.readAllLines(masterCf, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return null;
        }
        for (String line : lines) {
            if (line.startsWith("#") || line.isBlank() || Character.isWhitespace(line.charAt(0))) {
                continue;
            }
            String[] fields = line.trim().split("\\s+", 8);
            if (fields.length < 7 || !fields[0].equals("smtp") || !fields[1].equals("inet")) {
                continue;
            }
            return fields[6].equals("-") ? null : parseInt(fields[6]);
        }
        return null;
    }

    private static Integer parseInt(String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static List<String> processCommandLines() {
        return ProcessHandle.allProcesses()
                .map(process -> process.info().commandLine().or(() -> process.info().command()))
                .flatMap(Optional::stream)
                .toList();
    }

    private static String runPostconf(String command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            process.getOutputStream().close();
            byte[] output;
            try (InputStream in = process.getInputStream()) {
                output = in.readNBytes(1 << 20);
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return null;
            }
            return process.exitValue() == 0 ? new String(output, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
