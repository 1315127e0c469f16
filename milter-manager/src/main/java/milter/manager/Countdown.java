package milter.manager;

/** Runs an action once a number of outstanding answers have all arrived. Event loop only. */
final class Countdown {
    private int remaining;
    private final Runnable done;

    Countdown(int remaining, Runnable done) {
        this.remaining = remaining;
        this.done = done;
    }

    void done() {
        if (--remaining == 0) {
            done.run();
        }
    }
}
