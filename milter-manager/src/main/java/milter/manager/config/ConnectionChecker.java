package milter.manager.config;

/**
 * A check that the SMTP client of a session is still connected ({@code manager.define_connection_checker}),
 * run every {@code manager.connection_check_interval} seconds while a session waits for its children.
 * False makes the daemon end the session with {@code manager.fallback_status_at_disconnect}.
 */
@FunctionalInterface
public interface ConnectionChecker {

    boolean connected(ConnectionCheckContext context);
}
