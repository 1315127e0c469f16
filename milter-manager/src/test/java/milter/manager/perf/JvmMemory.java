package milter.manager.perf;

import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The heap of another JVM on this machine, read through its local management agent (the same data
 * {@code jcmd PID GC.heap_info} prints): the peak of each heap pool since the last {@link #resetPeaks()}, their sum,
 * garbage collections, and the live heap after a forced full collection. The agent is started over the attach
 * API, so the measured JVM needs no option.
 */
final class JvmMemory implements AutoCloseable {
    private final JMXConnector connector;
    private final List<MemoryPoolMXBean> heapPools = new ArrayList<>();
    private final List<GarbageCollectorMXBean> collectors = new ArrayList<>();
    private final MemoryMXBean memory;
    private final com.sun.management.ThreadMXBean threads;

    private JvmMemory(JMXConnector connector) throws IOException {
        this.connector = connector;
        MBeanServerConnection server = connector.getMBeanServerConnection();
        this.memory = ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.MEMORY_MXBEAN_NAME,
                MemoryMXBean.class);
        for (MemoryPoolMXBean pool : ManagementFactory.getPlatformMXBeans(server, MemoryPoolMXBean.class)) {
            if (pool.getType() == MemoryType.HEAP) {
                heapPools.add(pool);
            }
        }
        collectors.addAll(ManagementFactory.getPlatformMXBeans(server, GarbageCollectorMXBean.class));
        this.threads = ManagementFactory.newPlatformMXBeanProxy(server, ManagementFactory.THREAD_MXBEAN_NAME,
                com.sun.management.ThreadMXBean.class);
    }

    /**
     * Bytes allocated so far by the threads alive now (the event loops live as long as the process, so the
     * difference over a run is what the run allocated).
     */
    long allocatedBytes() {
        long sum = 0;
        for (long allocated : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, allocated);
        }
        return sum;
    }

    /** Attaches to {@code pid}, starting its local management agent. */
    static JvmMemory attach(long pid) throws IOException {
        try {
            VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
            String address;
            try {
                address = vm.startLocalManagementAgent();
            } finally {
                vm.detach();
            }
            return new JvmMemory(JMXConnectorFactory.connect(new JMXServiceURL(address)));
        } catch (com.sun.tools.attach.AttachNotSupportedException e) {
            throw new IOException("cannot attach to JVM " + pid + ": " + e.getMessage(), e);
        }
    }

    /** Starts a new peak measurement in every heap pool. */
    void resetPeaks() {
        heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
    }

    /**
     * The sum of the heap pools' peaks since {@link #resetPeaks()}, in bytes: an upper bound of the peak heap
     * (the pools need not peak at the same moment).
     */
    long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : heapPools) {
            sum += pool.getPeakUsage().getUsed();
        }
        return sum;
    }

    /** Heap in use now, in bytes. */
    long usedHeapBytes() {
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** The maximum heap size ({@code -Xmx}), in bytes. */
    long maxHeapBytes() {
        return memory.getHeapMemoryUsage().getMax();
    }

    /** Runs a full collection and returns the heap still in use: what the process really holds. */
    long liveHeapBytes() {
        memory.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    /** Collections so far, over every collector. */
    long collections() {
        long sum = 0;
        for (GarbageCollectorMXBean collector : collectors) {
            sum += Math.max(0, collector.getCollectionCount());
        }
        return sum;
    }

    /** Accumulated collection time so far, over every collector, in milliseconds. */
    long collectionMillis() {
        long sum = 0;
        for (GarbageCollectorMXBean collector : collectors) {
            sum += Math.max(0, collector.getCollectionTime());
        }
        return sum;
    }

    @Override
    public void close() {
        try {
            connector.close();
        } catch (IOException ignored) {
            // The process may be gone already.
        }
    }
}
