package milter.manager.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One JRuby runtime for every test class of the run (starting one takes seconds on a small machine); it is
 * closed when the whole test plan ends. Use with {@code @ExtendWith(SharedLoader.class)}.
 */
public final class SharedLoader implements BeforeAllCallback {
    private static RubyConfigurationLoader loader;

    @Override
    public void beforeAll(ExtensionContext context) {
        synchronized (SharedLoader.class) {
            if (loader != null) {
                return;
            }
            loader = RubyConfigurationLoader.start();
            context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .put(SharedLoader.class.getName(), (ExtensionContext.Store.CloseableResource) () -> {
                        synchronized (SharedLoader.class) {
                            loader.close();
                            loader = null;
                        }
                    });
        }
    }

    public static synchronized RubyConfigurationLoader loader() {
        if (loader == null) {
            throw new IllegalStateException("use @ExtendWith(SharedLoader.class)");
        }
        return loader;
    }

    /** Loads {@code milter-manager.conf} from the load paths for platform "test" (no defaults file). */
    public static LoadResult load(Path... loadPaths) {
        return loader().load(LoadRequest.builder().loadPaths(java.util.List.of(loadPaths)).platform("test")
                .build());
    }

    /** Writes a file (creating directories) and returns its path. */
    public static Path write(Path directory, String name, String content) {
        try {
            Path file = directory.resolve(name);
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shipped configuration directory ({@code conf/} at the top of the repository). */
    public static Path shippedConf() {
        Path candidate = Path.of("..", "conf").toAbsolutePath().normalize();
        if (!Files.isRegularFile(candidate.resolve("milter-manager.conf"))) {
            candidate = Path.of("conf").toAbsolutePath().normalize();
        }
        return candidate;
    }

    /** A test resource directory as a path. */
    public static Path resource(String name) {
        try {
            return Path.of(SharedLoader.class.getResource("/" + name).toURI());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("missing test resource: " + name, e);
        }
    }
}
