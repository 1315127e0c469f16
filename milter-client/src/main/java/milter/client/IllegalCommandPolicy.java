package milter.client;

/**
 * What the client does with a command that may not come in the current state (for example {@code T} before any
 * {@code M}, or a second {@code C} without {@code K}). The command is always logged as
 * {@code [client][error][COMMAND][state][invalid][STATE]} and never reaches the {@link Milter}; the state does not
 * change. Commands before negotiation and a second {@code O} always close the connection: there is no option to
 * answer them with.
 */
public enum IllegalCommandPolicy {
    /** Answer continue (nothing if the stage was negotiated as no-reply), so the MTA is never left waiting. */
    CONTINUE,
    /** Close the connection, as for a protocol error. */
    CLOSE
}
