package milter.manager.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Code the configuration hands to the daemon, which wires it: {@code manager.maintained {}} hooks (run after each
 * maintenance), {@code manager.event_loop_created {|loop|}} hooks (run once per process when the daemon's event
 * loop exists), and connection checkers ({@code manager.define_connection_checker}). Every hook guards itself:
 * an exception is logged with the tags of the log list and never reaches the caller.
 *
 * @param maintained            run in order after each maintenance; may block briefly (call them off event loops)
 * @param eventLoopCreated      run once with the daemon's loop facade
 * @param connectionCheckers    by name, in definition order; a checker answers whether the SMTP client is still
 *                              connected
 * @param netstatCheckInterval  seconds given to {@code manager.use_netstat_connection_checker}, or 0 when unused;
 *                              the checker named {@code netstat} is then a placeholder that always answers
 *                              "connected" until the daemon provides a real one
 */
public record ConfigurationHooks(
        List<Runnable> maintained,
        List<Consumer<HookEventLoop>> eventLoopCreated,
        Map<String, ConnectionChecker> connectionCheckers,
        int netstatCheckInterval) {

    public static final ConfigurationHooks NONE = new ConfigurationHooks(List.of(), List.of(), Map.of(), 0);

    public ConfigurationHooks {
        maintained = List.copyOf(maintained);
        eventLoopCreated = List.copyOf(eventLoopCreated);
        connectionCheckers = Collections.unmodifiableMap(new LinkedHashMap<>(connectionCheckers));
    }

    /** Runs every maintained hook in order. */
    public void runMaintained() {
        for (Runnable hook : maintained) {
            hook.run();
        }
    }

    /** Runs every event-loop-created hook in order with the daemon's loop. */
    public void runEventLoopCreated(HookEventLoop loop) {
        for (Consumer<HookEventLoop> hook : eventLoopCreated) {
            hook.accept(loop);
        }
    }

    /** True when every checker answers "connected" (or there is none). */
    public boolean connected(ConnectionCheckContext context) {
        for (ConnectionChecker checker : connectionCheckers.values()) {
            if (!checker.connected(context)) {
                return false;
            }
        }
        return true;
    }

    public boolean isEmpty() {
        return maintained.isEmpty() && eventLoopCreated.isEmpty() && connectionCheckers.isEmpty();
    }
}
