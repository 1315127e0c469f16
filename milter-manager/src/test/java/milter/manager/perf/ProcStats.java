package milter.manager.perf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux's {@code /proc} says about a process: CPU time (user + system, all threads) from
 * {@code /proc/PID/stat}, and the resident set high-water mark {@code VmHWM} from {@code /proc/PID/status}, which
 * {@link #resetPeakRss} sets back to the current RSS (writing 5 to {@code clear_refs}) so that each measurement
 * has its own peak.
 */
final class ProcStats {
    /** Clock ticks per second of {@code /proc/PID/stat}; 100 on every Linux architecture the JDK runs on. */
    private static final long TICKS_PER_SECOND = Long.getLong("milter.perf.clock-ticks", 100);

    private ProcStats() {
    }

    /** User plus system CPU time of every thread of {@code pid} so far, in nanoseconds. */
    static long cpuNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
            // The command name (field 2) may contain spaces: the fields after it start behind its last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long utime = Long.parseLong(fields[11]);
            long stime = Long.parseLong(fields[12]);
            return (utime + stime) * 1_000_000_000L / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read the CPU time of process " + pid + ": " + e, e);
        }
    }

    /** The peak resident set size since start (or the last reset), in bytes. */
    static long peakRssBytes(long pid) {
        return statusKilobytes(pid, "VmHWM:") * 1024;
    }

    /** The current resident set size, in bytes. */
    static long rssBytes(long pid) {
        return statusKilobytes(pid, "VmRSS:") * 1024;
    }

    /** Starts a new peak-RSS measurement; false when the kernel does not allow it (the peak then spans runs). */
    static boolean resetPeakRss(long pid) {
        try {
            Files.writeString(Path.of("/proc", Long.toString(pid), "clear_refs"), "5");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Open file descriptors of the process. */
    static int openFiles(long pid) {
        try (var entries = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return (int) entries.count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static long statusKilobytes(long pid, String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read " + key + " of process " + pid + ": " + e, e);
        }
        throw new IllegalStateException("no " + key + " in /proc/" + pid + "/status");
    }

    /** This JVM's pid. */
    static long self() {
        return ProcessHandle.current().pid();
    }
}
