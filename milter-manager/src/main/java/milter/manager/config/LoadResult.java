package milter.manager.config;

import java.util.List;

/**
 * What a load produced: a complete new snapshot (upstream semantics: what could be applied was applied, an
 * invalid value skipped the rest of its file) and every error met. The daemon swaps the snapshot in at start-up
 * regardless (as upstream does), but on a reload only when {@link #ok()}, so that a broken edit never reaches
 * the running daemon.
 */
public record LoadResult(Configuration configuration, List<ConfigurationError> errors, List<String> loadedFiles) {

    public LoadResult {
        errors = List.copyOf(errors);
        loadedFiles = List.copyOf(loadedFiles);
    }

    public boolean ok() {
        return errors.isEmpty();
    }
}
