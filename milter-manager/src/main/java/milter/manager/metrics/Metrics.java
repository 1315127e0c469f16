package milter.manager.metrics;

import milter.client.MilterFactory;
import milter.manager.ChildConnector;

/** Wiring helpers: the decorators that feed {@link ManagerMetrics} from sessions and child connections. */
public final class Metrics {
    private Metrics() {
    }

    /** Wraps the milter of each MTA session. */
    public static MilterFactory meter(MilterFactory factory, ManagerMetrics metrics) {
        return context -> new MeteredMilter(factory.create(context), metrics);
    }

    /** Wraps the connections to child milters. */
    public static ChildConnector meter(ChildConnector connector, ManagerMetrics metrics) {
        return new MeteredChildConnector(connector, metrics);
    }
}
