package milter.testing.process;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Ends every still-running {@link ManagedProcess} when the JVM exits without a test having closed it. */
final class ShutdownGuard {
    private static final Set<ManagedProcess> RUNNING = new LinkedHashSet<>();
    private static boolean hooked;

    private ShutdownGuard() {
    }

    static synchronized void register(ManagedProcess process) {
        if (!hooked) {
            Runtime.getRuntime().addShutdownHook(new Thread(ShutdownGuard::stopAll, "managed-process-shutdown"));
            hooked = true;
        }
        RUNNING.add(process);
    }

    static synchronized void unregister(ManagedProcess process) {
        RUNNING.remove(process);
    }

    private static void stopAll() {
        List<ManagedProcess> left;
        synchronized (ShutdownGuard.class) {
            left = List.copyOf(RUNNING);
        }
        for (ManagedProcess process : left) {
            process.handle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.handle().destroyForcibly();
        }
    }
}
