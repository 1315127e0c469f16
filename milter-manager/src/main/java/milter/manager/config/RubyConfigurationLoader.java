package milter.manager.config;

import java.util.concurrent.locks.ReentrantLock;
import milter.core.log.TaggedLogger;
import milter.manager.condition.DnsResolvers;
import milter.manager.config.ruby.ConfigurationRun;
import milter.manager.config.ruby.RubyRuntime;

/**
 * Loads {@code milter-manager.conf} (Ruby DSL) into {@link Configuration} snapshots with the process's one
 * JRuby runtime. Start it once ({@link #start()}, a second or two) and keep it for the life of the daemon:
 * the stoppers of every loaded configuration run on it.
 *
 * <pre>{@code
 * RubyConfigurationLoader loader = RubyConfigurationLoader.start();
 * LoadRequest request = LoadRequest.builder().loadPath(configDir).build();
 * LoadResult first = loader.load(request);          // start-up: use it even with errors, as upstream
 * current = first.configuration();
 * ...
 * current = loader.reload(current, request);        // SIGHUP / controller: keep the old one on any error
 * Configuration checked = loader.loadStrict(request); // --check-config: throws on any error
 * }</pre>
 *
 * Loads are serialised; they may run while sessions use earlier snapshots.
 */
public final class RubyConfigurationLoader implements AutoCloseable {
    private final RubyRuntime runtime;
    private final ReentrantLock lock = new ReentrantLock();

    private RubyConfigurationLoader(RubyRuntime runtime) {
        this.runtime = runtime;
    }

    /** Starts the JRuby runtime and the DSL library. */
    public static RubyConfigurationLoader start() {
        return new RubyConfigurationLoader(RubyRuntime.start());
    }

    /**
     * Loads a new snapshot. Problems do not throw: an invalid value skips the rest of its file, any other
     * exception the rest of the load, a missing top-level file leaves the defaults, and every problem is logged
     * ({@code [configuration][load][error] FILE:LINE: message}) and listed in the result.
     */
    public LoadResult load(LoadRequest request) {
        lock.lock();
        try {
            return ConfigurationRun.run(runtime, request);
        } finally {
            lock.unlock();
        }
    }

    /** {@code --check-config}: the snapshot, or an exception listing every problem. */
    public Configuration loadStrict(LoadRequest request) throws ConfigurationException {
        LoadResult result = load(request);
        if (!result.ok()) {
            throw new ConfigurationException(result.errors());
        }
        return result.configuration();
    }

    /** A reload: the new snapshot when it loaded cleanly, {@code current} (unchanged) otherwise. */
    public Configuration reload(Configuration current, LoadRequest request) {
        LoadResult result = load(request);
        if (result.ok()) {
            return result.configuration();
        }
        TaggedLogger.error(TaggedLogger.NO_SESSION, "[configuration][load][error]",
                "reload failed with " + result.errors().size() + " error(s): keeping the current configuration");
        return current;
    }

    /** The runtime, for tools and tests that evaluate Ruby directly. */
    public RubyRuntime runtime() {
        return runtime;
    }

    /** Tears the runtime down and closes the shared DNS resolvers; configurations loaded by it stop working. */
    @Override
    public void close() {
        lock.lock();
        try {
            runtime.close();
            DnsResolvers.closeShared();
        } finally {
            lock.unlock();
        }
    }
}
