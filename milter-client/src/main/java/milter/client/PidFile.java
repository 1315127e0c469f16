package milter.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import milter.core.log.TaggedLogger;

/** Upstream's PID file handling for milter programs: {@code PID\n}, with its log lines. */
public final class PidFile {
    private PidFile() {
    }

    /** Writes this process's id to {@code path}; logs and returns false on failure. */
    public static boolean save(Path path) {
        long pid = ProcessHandle.current().pid();
        try {
            Files.writeString(path, pid + "\n", StandardCharsets.US_ASCII);
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[client][pid-file][save]", "<" + path + ">: <" + pid + ">");
            return true;
        } catch (IOException | RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][pid-file][save][error]",
                    "<" + path + ">: <" + pid + ">: " + e);
            return false;
        }
    }

    /** Removes a PID file written by {@link #save}; logs and returns false on failure. */
    public static boolean remove(Path path) {
        try {
            Files.delete(path);
            return true;
        } catch (IOException | RuntimeException e) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][pid-file][error][remove]",
                    "failed to remove the PID file: <" + path + ">: " + e);
            return false;
        }
    }
}
