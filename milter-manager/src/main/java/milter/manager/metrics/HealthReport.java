package milter.manager.metrics;

/**
 * What {@code /ping} answers: whether the MTA listener is up, how many child milters the configuration enables
 * and how many of them answered within the window. Up means the listener is; children that did not answer
 * recently are reported, not judged (a quiet night is not an outage).
 */
public record HealthReport(boolean listening, int children, int answeredRecently, long windowSeconds) {

    public boolean up() {
        return listening;
    }

    /** The JSON body of {@code /ping}. */
    public String json() {
        return "{\"status\":\"" + (up() ? "up" : "down") + "\",\"listener\":\"" + (listening ? "up" : "down")
                + "\",\"children\":" + children + ",\"children_answered_recently\":" + answeredRecently
                + ",\"window_seconds\":" + windowSeconds + "}\n";
    }
}
