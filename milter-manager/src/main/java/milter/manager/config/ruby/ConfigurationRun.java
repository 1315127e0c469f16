package milter.manager.config.ruby;

import java.util.List;
import java.util.Map;
import milter.manager.config.Configuration;
import milter.manager.config.ConfigurationError;
import milter.manager.config.LoadRequest;
import milter.manager.config.LoadResult;
import milter.manager.config.PathResolver;
import milter.manager.config.Setting;

/** One load from start to snapshot: the Ruby files, the controller's XML, then the command-line overrides. */
public final class ConfigurationRun {
    private ConfigurationRun() {
    }

    /** Runs a load on the calling thread; the caller serialises loads on one runtime. */
    public static LoadResult run(RubyRuntime runtime, LoadRequest request) {
        LoadSession session = new LoadSession(runtime, request.loadPaths(), request.platform());
        try {
            runtime.load(session, request.file());
        } catch (RuntimeException | StackOverflowError e) {
            session.aborted(request.file(), 0, RubyErrors.describe(e), RubyErrors.backtrace(e));
        }
        if (request.loadCustom()) {
            for (java.nio.file.Path custom : PathResolver.resolve(
                    session.loadPaths().stream().map(java.nio.file.Path::of).toList(), LoadRequest.CUSTOM_FILE)) {
                CustomConfigurationLoader.load(session, custom);
                break;
            }
        }
        Configuration.Builder builder = session.builder();
        for (Map.Entry<Setting, Object> override : request.overrides().entrySet()) {
            builder.set(override.getKey(), override.getValue());
        }
        builder.hooks(session.hooks());
        List<ConfigurationError> errors = session.errors();
        return new LoadResult(builder.build(), errors, session.loadedFiles());
    }
}
