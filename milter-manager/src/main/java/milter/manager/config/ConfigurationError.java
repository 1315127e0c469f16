package milter.manager.config;

import java.util.List;

/**
 * One problem met while loading a configuration.
 *
 * @param kind      what happened, and so how much of the configuration was skipped
 * @param file      the configuration file the problem is in (or the name that was not found)
 * @param line      the line in {@code file}, or 0 when unknown
 * @param message   upstream-style text, e.g. {@code manager.fallback_status should be one of [...] but was "x"}
 * @param backtrace further frames inside configuration files ({@code FILE:LINE:in ...}), innermost first
 */
public record ConfigurationError(Kind kind, String file, int line, String message, List<String> backtrace) {

    public enum Kind {
        /** An invalid value (or a missing one): the rest of that file was skipped, loading went on. */
        INVALID_VALUE,
        /** Any other exception (syntax error, unknown method ...): everything after it was skipped. */
        ABORTED,
        /** The top-level file was not found in the load path: defaults were used. */
        MISSING_FILE,
        /** The custom (XML) configuration could not be applied. */
        CUSTOM
    }

    public ConfigurationError {
        backtrace = List.copyOf(backtrace);
    }

    /** {@code FILE:LINE: message}, as logged with {@code [configuration][load][error]}. */
    @Override
    public String toString() {
        if (line > 0) {
            return file + ":" + line + ": " + message;
        }
        return file == null ? message : file + ": " + message;
    }
}
