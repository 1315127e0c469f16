package milter.client;

/** {@link LogCapture} for tests outside this package. */
public final class LogCaptureAccess implements AutoCloseable {
    private final LogCapture capture = new LogCapture();

    public boolean has(String part) {
        return capture.has(part);
    }

    /** Waits (hang guard) for a line containing {@code part}. */
    public boolean await(String part) throws InterruptedException {
        return capture.await(part) != null;
    }

    @Override
    public void close() {
        capture.close();
    }
}
