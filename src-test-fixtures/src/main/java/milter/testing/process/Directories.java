package milter.testing.process;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/** Base directories for private daemon instances: readable by the daemons' own accounts, removed afterwards. */
public final class Directories {
    private Directories() {
    }

    /**
     * A new directory {@code PREFIX-NNN} under {@code java.io.tmpdir}, mode 0755: daemons that drop privileges
     * (spamd, rspamd, Postfix's delivery agents) must be able to reach their files below it.
     */
    public static Path createBase(String prefix) throws IOException {
        Path base = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), prefix + "-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        return base;
    }

    /** Writes {@code text} to {@code file}, creating parent directories. */
    public static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, text);
    }

    /** Writes an executable (0755) script. */
    public static Path writeScript(Path file, String text) throws IOException {
        write(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** Changes the owner of {@code path} and everything below it to the numeric ids of {@code user}. */
    public static void chown(Path path, String user) throws IOException, InterruptedException {
        Process chown = new ProcessBuilder("chown", "-R", user + ":", path.toString()).redirectErrorStream(true)
                .start();
        String output = new String(chown.getInputStream().readAllBytes());
        if (chown.waitFor() != 0) {
            throw new IOException("chown -R " + user + " " + path + " failed: " + output);
        }
    }

    public static void deleteRecursively(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                try {
                    Files.delete(file);
                } catch (NoSuchFileException ignored) {
                    // gone already
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Runs a short command to completion and returns its output; fails on a non-zero exit. */
    public static String run(Path directory, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!process.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", command));
        }
        if (process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + process.exitValue() + ":\n" + output);
        }
        return output;
    }
}
