package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log file: exact lines, reopening after rotation, falling back to standard output. */
class LogFileTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-30T23:59:58Z"), ZoneOffset.UTC);
    private static final String T = "[2025-06-30T23:59:58Z]: ";

    @TempDir
    Path dir;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private LogSetup setup;

    private LogSetup install(int levels, String path) {
        setup = LogSetup.builder().levels(levels).path(path).clock(CLOCK)
                .stdout(new PrintStream(stdout, true, StandardCharsets.ISO_8859_1)).install();
        return setup;
    }

    private String stdout() {
        return stdout.toString(StandardCharsets.ISO_8859_1);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.ISO_8859_1);
    }

    @AfterEach
    void uninstall() {
        if (setup != null) {
            setup.uninstall();
        }
    }

    @Test
    void linesAreAppendedToTheFileNotStdout() throws IOException {
        Path log = dir.resolve("milter-manager.log");
        Files.writeString(log, "kept\n");
        install(LogLevels.DEFAULT, log.toString());
        assertEquals(log.toString(), setup.path());
        TaggedLogger.message(TaggedLogger.NO_SESSION, "[manager][start]", "");
        TaggedLogger.statistics(12, "[session][end][end-of-message][pass][0.125378](12)", "");
        TaggedLogger.info(12, "[manager][info]", "not in the set");
        assertEquals("kept\n" + T + "[manager][start]\n"
                + T + "[12] [session][end][end-of-message][pass][0.125378](12)\n", read(log));
        assertEquals("", stdout());
    }

    @Test
    void reopenAfterRenameStartsANewFile() throws IOException {
        Path log = dir.resolve("milter-manager.log");
        Path rotated = dir.resolve("milter-manager.log.1");
        install(LogLevels.ALL, log.toString());
        TaggedLogger.error(1, "[before]", "rotation");
        Files.move(log, rotated);
        TaggedLogger.error(1, "[still]", "old file");
        assertTrue(setup.reopen());
        TaggedLogger.error(2, "[after]", "rotation");
        assertEquals(T + "[1] [before] rotation\n" + T + "[1] [still] old file\n" + T + "[logger][reopen][close]\n",
                read(rotated));
        assertEquals(T + "[logger][reopen][open]\n" + T + "[2] [after] rotation\n", read(log));
        assertEquals(log.toString(), setup.path());
    }

    @Test
    void reopenThatCannotOpenFallsBackToStdout() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("logs"));
        Path log = sub.resolve("milter-manager.log");
        install(LogLevels.DEFAULT, log.toString());
        TaggedLogger.error(1, "[before]", "x");
        Files.delete(log);
        Files.delete(sub);
        assertFalse(setup.reopen());
        assertNull(setup.path());
        TaggedLogger.error(1, "[after]", "y");
        assertEquals(T + "[logger][reopen][open][warning] <" + log + ">: No such file or directory\n"
                + T + "[1] [after] y\n", stdout());
        assertFalse(setup.reopen(), "nothing to reopen any more");
        assertEquals(T + "[logger][reopen][open][warning] <" + log + ">: No such file or directory\n"
                + T + "[1] [after] y\n", stdout());
    }

    @Test
    void fileThatCannotBeOpenedAtStartIsReportedAndStdoutUsed() {
        Path log = dir.resolve("missing").resolve("milter-manager.log");
        install(LogLevels.DEFAULT, log.toString());
        assertNull(setup.path());
        TaggedLogger.error(TaggedLogger.NO_SESSION, "[x]", "y");
        assertEquals(T + "[logger][path][set][warning] failed to set log output path: <" + log
                + ">: No such file or directory\n" + T + "[x] y\n", stdout());
    }

    @Test
    void reopenWithoutFileDoesNothing() {
        install(LogLevels.ALL, "-");
        assertNull(setup.path());
        assertFalse(setup.reopen());
        assertEquals("", stdout());
    }

    @Test
    void reopenResumesAfterTheAppenderStoppedOnAWriteError() throws IOException {
        Path log = dir.resolve("milter-manager.log");
        install(LogLevels.DEFAULT, log.toString());
        LogOutputAppender appender = (LogOutputAppender) ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory
                .getLogger(TaggedLogger.LOGGER_NAME)).getAppender(LogSetup.MAIN_APPENDER);
        appender.stop();
        TaggedLogger.error(1, "[lost]", "while stopped");
        assertTrue(setup.reopen());
        TaggedLogger.error(1, "[back]", "again");
        assertEquals(T + "[1] [back] again\n", read(log));
    }

    @Test
    void reasonIsTheSystemMessageOfTheJdkException() {
        assertEquals("Permission denied",
                LogOutputAppender.reason(new FileNotFoundException("/var/log/x.log (Permission denied)")));
        assertEquals("disk full", LogOutputAppender.reason(new IOException("disk full")));
    }
}
