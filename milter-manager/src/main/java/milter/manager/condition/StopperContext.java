package milter.manager.condition;

import java.util.Map;
import milter.core.protocol.Status;

/**
 * What a stopper sees of the child it is asked about (upstream's {@code Milter::Manager::ChildContext}).
 * Valid only during the stopper call, on the session's event loop.
 */
public interface StopperContext {

    /** The session's log id ({@code [ID]} in log lines), or {@link milter.core.log.TaggedLogger#NO_SESSION}. */
    default long sessionId() {
        return milter.core.log.TaggedLogger.NO_SESSION;
    }

    /** The egg name of the child. */
    String name();

    /** A macro visible to the child now ({@code x} or {@code {x}}), or null. */
    String macro(String name);

    /** Sets a macro in the child's current-stage table; it travels with the pending command. */
    void setMacro(String name, String value);

    /** The last real status of the child (reject, temporary-failure, accept, discard...), or null. */
    Status status();

    boolean quitted();

    /** Every child of the session by egg name. */
    Map<String, StopperContext> children();

    /** Sessions in progress in this process. */
    int processingSessions();

    /** Whether the MTA is Postfix (macro {@code v} mentions it). */
    default boolean postfix() {
        String version = macro("v");
        return version != null && version.matches("(?is).*\\bpostfix\\b.*");
    }

    /** Whether the sender authenticated ({@code auth_type} or {@code auth_authen} set). */
    default boolean authenticated() {
        return macro("auth_type") != null || macro("auth_authen") != null;
    }

    /** A store shared by all children of the session, cleared when the MTA aborts the message. */
    Map<String, Object> mailTransactionShelf();
}
