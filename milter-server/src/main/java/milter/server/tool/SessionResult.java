package milter.server.tool;

import milter.core.protocol.Status;

/**
 * How one test session ended.
 *
 * @param connected      whether the connection was established
 * @param status         the session's verdict, as upstream computes it (pass for default/not-change/continue)
 * @param replyCode      the last reply code received ({@code 550 5.7.1 text}), or null
 * @param quarantineReason the reason of a quarantine request, or null
 * @param error          what went wrong (a timeout, a protocol error, a failed connect), or null
 * @param elapsedSeconds from the established connection to the end, as upstream's {@code elapsed-time}
 * @param latencyNanos   from the connect attempt to the end, for load runs
 * @param message        the message with the milter's modifications applied
 */
record SessionResult(boolean connected, Status status, String replyCode, String quarantineReason, String error,
        double elapsedSeconds, long latencyNanos, TestMessage message) {

    boolean succeeded() {
        return connected && error == null;
    }

    /** {@code pass} for the pass statuses, else the status nick. */
    String statusName() {
        return status.isPass() ? "pass" : status.nick();
    }
}
