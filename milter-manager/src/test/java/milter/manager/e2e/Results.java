package milter.manager.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * One line per case on standard output ({@code [e2e] SYSTEM | CASE | RESULT}), also appended to the file named by
 * the system property {@code milter.e2e.results} (the build puts it in {@code target/}) for the docs' table.
 */
final class Results {
    private static boolean started;

    private Results() {
    }

    static synchronized void report(MailSystem system, String testCase, String result) {
        String line = String.format(Locale.ROOT, "[e2e] %-17s | %-32s | %s", system.label(), testCase, result);
        System.out.println(line);
        String file = System.getProperty("milter.e2e.results");
        if (file != null && !file.isBlank()) {
            try {
                StandardOpenOption mode = started ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
                Files.writeString(Path.of(file), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE, mode);
                started = true;
            } catch (IOException e) {
                System.out.println("[e2e] (could not append to " + file + ": " + e + ")");
            }
        }
    }
}
