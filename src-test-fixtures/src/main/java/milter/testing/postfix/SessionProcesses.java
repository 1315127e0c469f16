package milter.testing.postfix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The live processes of one Unix session, read from {@code /proc}. The Postfix master makes itself a session
 * leader and every daemon it forks stays in that session, so the session id (the master's pid) names exactly
 * the processes of one instance, even after the master is gone and they were re-parented.
 */
public final class SessionProcesses {
    private static final Path PROC = Path.of("/proc");

    private SessionProcesses() {
    }

    /** Live (not zombie) processes whose session id is {@code sessionId}. Empty where /proc is unavailable. */
    public static List<ProcessHandle> of(long sessionId) {
        List<ProcessHandle> found = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                long pid = Long.parseLong(name);
                Stat stat = stat(pid);
                if (stat != null && stat.session == sessionId && stat.state != 'Z' && stat.state != 'X') {
                    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
                    handle.ifPresent(found::add);
                }
            }
        } catch (IOException e) {
            return found;
        }
        return found;
    }

    private record Stat(char state, long session) {
    }

    /** Fields of /proc/PID/stat after the command name (which may itself contain spaces and parentheses). */
    private static Stat stat(long pid) {
        String text;
        try {
            text = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return null; // gone meanwhile
        }
        int close = text.lastIndexOf(')');
        if (close < 0) {
            return null;
        }
        String[] fields = text.substring(close + 2).trim().split(" ");
        // state ppid pgrp session ...
        if (fields.length < 4) {
            return null;
        }
        try {
            return new Stat(fields[0].charAt(0), Long.parseLong(fields[3]));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
