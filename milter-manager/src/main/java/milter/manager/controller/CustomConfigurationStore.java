package milter.manager.controller;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import milter.manager.config.LoadRequest;
import milter.manager.config.PathResolver;

/**
 * {@code milter-manager.custom.conf}, the file the controller's {@code set-configuration} writes: into the first
 * load-path directory where it can be written, replacing the old one atomically (a reader never sees half a
 * file). Loading it is the configuration loader's business; saving does not reload.
 */
public final class CustomConfigurationStore {
    private CustomConfigurationStore() {
    }

    /**
     * Saves {@code content} and returns the file written.
     *
     * @throws IOException with upstream's message, {@code can't find writable custom configuration file in
     *                     ["PATH"(ERROR), ...]}, when no load-path directory takes it
     */
    public static Path save(List<Path> loadPaths, byte[] content) throws IOException {
        StringBuilder tried = new StringBuilder("[");
        for (int i = 0; i < loadPaths.size(); i++) {
            Path file = loadPaths.get(i).resolve(LoadRequest.CUSTOM_FILE);
            tried.append('"').append(file).append('"');
            try {
                write(file, content);
                return file;
            } catch (IOException | RuntimeException e) {
                tried.append('(').append(reason(e)).append(')');
                if (i + 1 < loadPaths.size()) {
                    tried.append(", ");
                }
            }
        }
        tried.append(']');
        throw new IOException("can't find writable custom configuration file in " + tried);
    }

    private static void write(Path file, byte[] content) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(directory)) {
            throw new IOException("No such file or directory");
        }
        Path temporary = Files.createTempFile(directory, "." + LoadRequest.CUSTOM_FILE + ".", ".tmp");
        try {
            Files.write(temporary, content);
            try {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** The modification time (seconds) of the custom file that loading would find, or null. */
    public static Long lastModified(List<Path> loadPaths) {
        for (Path file : PathResolver.resolve(loadPaths, LoadRequest.CUSTOM_FILE)) {
            try {
                FileTime time = Files.getLastModifiedTime(file);
                return time.toMillis() / 1000;
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message;
    }
}
