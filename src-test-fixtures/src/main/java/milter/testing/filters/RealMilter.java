package milter.testing.filters;

/** A real milter process started for a test: its name and address; closing it stops the process. */
public interface RealMilter extends AutoCloseable {
    MilterAddress address();

    /** Command lines and output of its processes, for failure messages. */
    String diagnostics();

    @Override
    void close() throws Exception;
}
