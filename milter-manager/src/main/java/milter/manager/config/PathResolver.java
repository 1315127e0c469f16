package milter.manager.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Upstream's path resolution over load paths ({@code load}, {@code load_if_exist},
 * {@code trust.load_envelope_from_domains}). An absolute path is returned as is. A relative one is tried against
 * each load path in order: a directory there yields its files (not sub-directories) and ends the search; an
 * existing file yields itself and ends the search; otherwise the path is expanded as a glob there (sorted, files
 * only) and the search goes on, collecting matches from every load path.
 */
public final class PathResolver {
    private PathResolver() {
    }

    public static List<Path> resolve(List<Path> loadPaths, String path) {
        Path given = Path.of(path);
        if (given.isAbsolute()) {
            return List.of(given);
        }
        List<Path> found = new ArrayList<>();
        for (Path loadPath : loadPaths) {
            Path full = loadPath.resolve(path);
            if (Files.isDirectory(full)) {
                return filesIn(full);
            }
            if (Files.exists(full)) {
                return List.of(full);
            }
            found.addAll(glob(loadPath, path));
        }
        return found;
    }

    private static List<Path> filesIn(Path directory) {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> entries = Files.list(directory)) {
            entries.filter(entry -> !Files.isDirectory(entry)).sorted().forEach(files::add);
        } catch (IOException e) {
            return List.of();
        }
        return files;
    }

    /** Expands {@code pattern} (Ruby glob: {@code * ? [..] {a,b} **}) below {@code base}; files only, sorted. */
    static List<Path> glob(Path base, String pattern) {
        if (!hasGlob(pattern)) {
            return List.of();
        }
        List<String> parts = new ArrayList<>();
        for (String part : pattern.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        List<Path> matches = new ArrayList<>();
        expand(base, parts, 0, matches);
        List<Path> files = new ArrayList<>();
        for (Path match : matches) {
            if (!Files.isDirectory(match)) {
                files.add(match);
            }
        }
        files.sort(null);
        return files;
    }

    private static void expand(Path directory, List<String> parts, int index, List<Path> out) {
        if (index == parts.size()) {
            out.add(directory);
            return;
        }
        String part = parts.get(index);
        if (part.equals("**")) {
            expand(directory, parts, index + 1, out);
            for (Path child : children(directory)) {
                if (Files.isDirectory(child) && !hidden(child)) {
                    expand(child, parts, index, out);
                }
            }
            return;
        }
        if (!hasGlob(part)) {
            Path next = directory.resolve(part);
            if (Files.exists(next)) {
                expand(next, parts, index + 1, out);
            }
            return;
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + part);
        boolean dotAllowed = part.startsWith(".");
        for (Path child : children(directory)) {
            if (hidden(child) && !dotAllowed) {
                continue;
            }
            if (matcher.matches(child.getFileName())) {
                if (index + 1 == parts.size() || Files.isDirectory(child)) {
                    expand(child, parts, index + 1, out);
                }
            }
        }
    }

    private static List<Path> children(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
            stream.forEach(children::add);
        } catch (IOException e) {
            return List.of();
        }
        children.sort(null);
        return children;
    }

    private static boolean hidden(Path path) {
        return path.getFileName().toString().startsWith(".");
    }

    private static boolean hasGlob(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{') {
                return true;
            }
        }
        return false;
    }
}
