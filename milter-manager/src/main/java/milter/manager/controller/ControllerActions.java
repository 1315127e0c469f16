package milter.manager.controller;

import java.nio.file.Path;
import java.util.List;
import milter.manager.config.Configuration;

/**
 * What the controller asks of the daemon. Called on the controller's own worker thread, never on an event loop,
 * so these may block (a reload runs the configuration loader).
 */
public interface ControllerActions {

    /** The configuration sessions start with now. */
    Configuration configuration();

    /** The directories the configuration is loaded from, in order (the custom file is written to the first
     * writable one). */
    List<Path> loadPaths();

    /**
     * Loads the configuration again and swaps it in when it loaded cleanly.
     *
     * @return null when the new configuration is in force, else why not (the old one stays)
     */
    String reload();

    /** A short report of the daemon's state for {@code get-status}: {@code key: value} lines. */
    String status();

    /**
     * Stops the process that the child launcher started for milter {@code name}.
     *
     * @return null when it was stopped, else why not
     */
    String stopChild(String name);
}
