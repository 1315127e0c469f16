package milter.manager.config;

import java.util.function.BooleanSupplier;

/**
 * What {@code manager.event_loop_created {|loop| ...}} hooks see of the daemon's loop (upstream's
 * {@code loop.add_timeout(seconds) { true_to_repeat }}). The daemon implements it.
 */
public interface HookEventLoop {

    /**
     * Runs {@code callback} after {@code seconds}, again every {@code seconds} for as long as it answers true.
     * Callbacks from the configuration guard themselves (an exception answers false and is logged).
     */
    void addTimeout(double seconds, BooleanSupplier callback);
}
