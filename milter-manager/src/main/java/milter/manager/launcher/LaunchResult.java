package milter.manager.launcher;

/** The launcher's answer: started, or why not (upstream's {@code success} / {@code error} reply). */
public record LaunchResult(boolean success, String message) {
    static final LaunchResult SUCCESS = new LaunchResult(true, null);

    static LaunchResult error(String message) {
        return new LaunchResult(false, message);
    }
}
