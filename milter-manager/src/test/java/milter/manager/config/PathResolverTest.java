package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathResolverTest {
    @TempDir
    Path root;

    private Path first() {
        return root.resolve("first");
    }

    private Path second() {
        return root.resolve("second");
    }

    @Test
    void absolutePathIsReturnedAsIs() {
        assertEquals(List.of(Path.of("/nowhere/x.conf")),
                PathResolver.resolve(List.of(first()), "/nowhere/x.conf"));
    }

    @Test
    void existingFileStopsTheSearch() {
        Path inFirst = SharedLoader.write(first(), "a.conf", "");
        SharedLoader.write(second(), "a.conf", "");
        assertEquals(List.of(inFirst), PathResolver.resolve(List.of(first(), second()), "a.conf"));
    }

    @Test
    void directoryGivesItsFilesAndStops() throws Exception {
        Path b = SharedLoader.write(first(), "dir/b.conf", "");
        Path a = SharedLoader.write(first(), "dir/a.conf", "");
        Files.createDirectories(first().resolve("dir/sub"));
        SharedLoader.write(second(), "dir/c.conf", "");
        assertEquals(List.of(a, b), PathResolver.resolve(List.of(first(), second()), "dir"));
    }

    @Test
    void globsAreExpandedInEveryLoadPathInOrder() {
        Path x = SharedLoader.write(first(), "conds/x.conf", "");
        SharedLoader.write(first(), "conds/x.txt", "");
        SharedLoader.write(first(), "conds/.hidden.conf", "");
        Path b = SharedLoader.write(second(), "conds/b.conf", "");
        Path a = SharedLoader.write(second(), "conds/a.conf", "");
        assertEquals(List.of(x, a, b), PathResolver.resolve(List.of(first(), second()), "conds/*.conf"));
    }

    @Test
    void globForms() {
        Path deep = SharedLoader.write(first(), "a/b/c/deep.conf", "");
        Path top = SharedLoader.write(first(), "a/top.conf", "");
        Path one = SharedLoader.write(first(), "n1.conf", "");
        Path two = SharedLoader.write(first(), "n2.rb", "");
        assertEquals(List.of(deep, top), PathResolver.resolve(List.of(first()), "a/**/*.conf"));
        assertEquals(List.of(one, two), PathResolver.resolve(List.of(first()), "n?.{conf,rb}"));
        assertEquals(List.of(one), PathResolver.resolve(List.of(first()), "n[1].conf"));
    }

    @Test
    void nothingFound() {
        assertEquals(List.of(), PathResolver.resolve(List.of(first(), second()), "missing.conf"));
        assertEquals(List.of(), PathResolver.resolve(List.of(first()), "missing/*.conf"));
        assertEquals(List.of(), PathResolver.resolve(List.of(), "x.conf"));
    }
}
