package milter.manager.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntSupplier;
import milter.manager.ChildFailure;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.message.BodyStore;

/**
 * The daemon's metrics, in a registry of their own (Prometheus' Java client): sessions started and finished (by
 * final status and last stage), open sessions, time per MTA stage, session duration, body bytes, bodies moved to
 * temporary files, and per child milter its answers, errors and timeouts. Also what {@code /ping} reports.
 *
 * <p>Updates from sessions touch pre-bound data points only: the label lookup happens once per label combination
 * (cached in arrays) or once per milter when a configuration is installed ({@link #configure}), never per
 * command. Everything here is safe to use from any event loop.
 */
public final class ManagerMetrics {
    /** Seconds; from half a millisecond (a local continue) to five minutes (an end-of-message timeout). */
    private static final double[] LATENCY_BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1, 2.5, 5, 10, 30, 60, 300};
    private static final Stage[] STAGES = Stage.values();
    private static final Verdict[] VERDICTS = Verdict.values();
    private static final ChildFailure.Kind[] KINDS = ChildFailure.Kind.values();

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter sessionsStarted;
    private final Counter sessionsFinished;
    private final Histogram stageDuration;
    private final Histogram sessionDuration;
    private final Counter bodyBytes;
    private final Counter childReplies;
    private final Counter childErrors;
    private final Counter reloads;
    private final CounterDataPoint started;
    private final CounterDataPoint body;
    private final DistributionDataPoint session;
    private final AtomicReferenceArray<CounterDataPoint> finished =
            new AtomicReferenceArray<>(VERDICTS.length * STAGES.length);
    private final DistributionDataPoint[] stages = new DistributionDataPoint[STAGES.length];
    private volatile Map<String, ChildMeters> children = Map.of();
    private final long startNanos = System.nanoTime();

    /**
     * @param openSessions MTA sessions in progress now
     */
    public ManagerMetrics(IntSupplier openSessions) {
        sessionsStarted = Counter.builder().name("milter_manager_sessions_started_total")
                .help("MTA sessions accepted.").withoutExemplars().register(registry);
        sessionsFinished = Counter.builder().name("milter_manager_sessions_finished_total")
                .help("MTA sessions ended, by the last status replied to the MTA and the last stage.")
                .labelNames("status", "stage").withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("milter_manager_sessions_open").help("MTA sessions in progress.")
                .callback(callback -> callback.call(openSessions.getAsInt())).register(registry);
        stageDuration = Histogram.builder().name("milter_manager_stage_duration_seconds")
                .help("Time from an MTA command to the manager's reply, by stage.").labelNames("stage")
                .classicOnly().classicUpperBounds(LATENCY_BOUNDS).withoutExemplars().register(registry);
        sessionDuration = Histogram.builder().name("milter_manager_session_duration_seconds")
                .help("Time from accepting an MTA connection to its end.").classicOnly()
                .classicUpperBounds(LATENCY_BOUNDS).withoutExemplars().register(registry);
        bodyBytes = Counter.builder().name("milter_manager_body_bytes_total")
                .help("Message body bytes received from the MTA.").withoutExemplars().register(registry);
        CounterWithCallback.builder().name("milter_manager_body_temporary_files_total")
                .help("Message bodies moved from memory to a temporary file.")
                .callback(callback -> callback.call(BodyStore.spills())).register(registry);
        childReplies = Counter.builder().name("milter_manager_child_replies_total")
                .help("Final answers of child milters to commands, by milter and status.")
                .labelNames("milter", "status").withoutExemplars().register(registry);
        childErrors = Counter.builder().name("milter_manager_child_errors_total")
                .help("Child milter failures (connection errors, timeouts, protocol errors, closed connections), by"
                        + " milter and kind.").labelNames("milter", "kind").withoutExemplars().register(registry);
        GaugeWithCallback.builder().name("milter_manager_child_last_answer_age_seconds")
                .help("Seconds since each child milter last answered (absent before its first answer).")
                .labelNames("milter").callback(callback -> {
                    long now = System.nanoTime();
                    children.forEach((name, meters) -> {
                        long last = meters.lastAnswerNanos;
                        if (last != 0) {
                            callback.call((now - last) / 1e9, name);
                        }
                    });
                }).register(registry);
        reloads = Counter.builder().name("milter_manager_configuration_reloads_total")
                .help("Configuration reloads, by result.").labelNames("result").withoutExemplars()
                .register(registry);
        started = sessionsStarted.labelValues();
        body = bodyBytes.labelValues();
        session = sessionDuration.labelValues();
        for (Stage stage : STAGES) {
            stages[stage.ordinal()] = stageDuration.labelValues(stage.label());
        }
        reloads.labelValues("success");
        reloads.labelValues("error");
    }

    /** Binds the data points of the configuration's milters; call before sessions use the configuration. */
    public synchronized void configure(Configuration configuration) {
        Map<String, ChildMeters> next = new HashMap<>(children);
        for (Egg egg : configuration.eggs()) {
            next.computeIfAbsent(egg.name(), name -> new ChildMeters(name));
        }
        children = Map.copyOf(next);
    }

    /**
     * The meters of a milter. Every egg of an installed configuration has them already ({@link #configure}); only
     * a name no configuration announced takes the slow path.
     */
    ChildMeters child(String name) {
        ChildMeters meters = children.get(name);
        return meters != null ? meters : register(name);
    }

    private synchronized ChildMeters register(String name) {
        ChildMeters meters = children.get(name);
        if (meters == null) {
            meters = new ChildMeters(name);
            Map<String, ChildMeters> next = new HashMap<>(children);
            next.put(name, meters);
            children = Map.copyOf(next);
        }
        return meters;
    }

    void sessionStarted() {
        started.inc();
    }

    void sessionFinished(Verdict verdict, Stage stage, long nanos) {
        int index = verdict.ordinal() * STAGES.length + stage.ordinal();
        CounterDataPoint point = finished.get(index);
        if (point == null) {
            point = sessionsFinished.labelValues(verdict.sessionLabel(), stage.label());
            finished.set(index, point);
        }
        point.inc();
        session.observe(nanos / 1e9);
    }

    void stageAnswered(Stage stage, long nanos) {
        stages[stage.ordinal()].observe(nanos / 1e9);
    }

    void bodyReceived(int bytes) {
        body.inc(bytes);
    }

    /** A configuration reload ended. */
    public void reloaded(boolean success) {
        reloads.labelValues(success ? "success" : "error").inc();
    }

    /** The current values, for the endpoint. */
    public MetricSnapshots scrape() {
        return registry.scrape();
    }

    /** How many of the configuration's milters answered within the last {@code windowNanos}. */
    public int childrenAnsweredWithin(Configuration configuration, long windowNanos) {
        long now = System.nanoTime();
        int answered = 0;
        Map<String, ChildMeters> current = children;
        for (Egg egg : configuration.eggs()) {
            ChildMeters meters = current.get(egg.name());
            if (meters != null && meters.lastAnswerNanos != 0 && now - meters.lastAnswerNanos <= windowNanos) {
                answered++;
            }
        }
        return answered;
    }

    /** Seconds since these metrics started. */
    public double uptimeSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** One milter's data points; status and kind points are bound on first use and kept. */
    final class ChildMeters {
        private final String name;
        private final AtomicReferenceArray<CounterDataPoint> replies = new AtomicReferenceArray<>(VERDICTS.length);
        private final AtomicReferenceArray<CounterDataPoint> errors = new AtomicReferenceArray<>(KINDS.length);
        volatile long lastAnswerNanos;

        ChildMeters(String name) {
            this.name = name;
        }

        void answered(Verdict verdict) {
            lastAnswerNanos = System.nanoTime();
            CounterDataPoint point = replies.get(verdict.ordinal());
            if (point == null) {
                point = childReplies.labelValues(name, verdict.label());
                replies.set(verdict.ordinal(), point);
            }
            point.inc();
        }

        /** The child answered something (negotiation) without a verdict. */
        void alive() {
            lastAnswerNanos = System.nanoTime();
        }

        void failed(ChildFailure.Kind kind) {
            CounterDataPoint point = errors.get(kind.ordinal());
            if (point == null) {
                point = childErrors.labelValues(name, kindLabel(kind));
                errors.set(kind.ordinal(), point);
            }
            point.inc();
        }
    }

    static String kindLabel(ChildFailure.Kind kind) {
        return kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
