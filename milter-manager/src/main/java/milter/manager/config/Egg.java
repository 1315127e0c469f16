package milter.manager.config;

import java.util.List;
import java.util.Objects;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;

/**
 * A child milter definition ({@code define_milter}): immutable. A session hatches one child connection from
 * every enabled egg, in egg order.
 *
 * @param connectionSpec null when the configuration did not set one (the egg is then skipped with an error)
 */
public record Egg(
        String name,
        ConnectionSpec connectionSpec,
        String description,
        boolean enabled,
        Status fallbackStatus,
        boolean evaluationMode,
        List<String> applicableConditions,
        String command,
        String commandOptions,
        String userName,
        double connectionTimeout,
        double writingTimeout,
        double readingTimeout,
        double endOfMessageTimeout) {

    public static final double DEFAULT_CONNECTION_TIMEOUT = 297.0;
    public static final double DEFAULT_WRITING_TIMEOUT = 7.0;
    public static final double DEFAULT_READING_TIMEOUT = 7.0;
    public static final double DEFAULT_END_OF_MESSAGE_TIMEOUT = 297.0;

    public Egg {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(fallbackStatus, "fallbackStatus");
        applicableConditions = List.copyOf(applicableConditions);
    }

    /** An enabled egg with every default, reached at {@code spec}. */
    public static Egg of(String name, ConnectionSpec spec) {
        return builder(name).connectionSpec(spec).build();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public Builder toBuilder() {
        Builder builder = new Builder(name);
        builder.connectionSpec = connectionSpec;
        builder.description = description;
        builder.enabled = enabled;
        builder.fallbackStatus = fallbackStatus;
        builder.evaluationMode = evaluationMode;
        builder.applicableConditions = applicableConditions;
        builder.command = command;
        builder.commandOptions = commandOptions;
        builder.userName = userName;
        builder.connectionTimeout = connectionTimeout;
        builder.writingTimeout = writingTimeout;
        builder.readingTimeout = readingTimeout;
        builder.endOfMessageTimeout = endOfMessageTimeout;
        return builder;
    }

    /** Mutable companion used by the configuration loader and by tests. */
    public static final class Builder {
        private final String name;
        private ConnectionSpec connectionSpec;
        private String description;
        private boolean enabled = true;
        private Status fallbackStatus = Status.ACCEPT;
        private boolean evaluationMode;
        private List<String> applicableConditions = List.of();
        private String command;
        private String commandOptions;
        private String userName;
        private double connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
        private double writingTimeout = DEFAULT_WRITING_TIMEOUT;
        private double readingTimeout = DEFAULT_READING_TIMEOUT;
        private double endOfMessageTimeout = DEFAULT_END_OF_MESSAGE_TIMEOUT;

        private Builder(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public Builder connectionSpec(ConnectionSpec spec) {
            this.connectionSpec = spec;
            return this;
        }

        public Builder description(String description) {
            this.description = description;
            return this;
        }

        public Builder enabled(boolean enabled) {
            this.enabled = enabled;
            return this;
        }

        public Builder fallbackStatus(Status status) {
            this.fallbackStatus = Objects.requireNonNull(status);
            return this;
        }

        public Builder evaluationMode(boolean evaluationMode) {
            this.evaluationMode = evaluationMode;
            return this;
        }

        public Builder applicableConditions(List<String> names) {
            this.applicableConditions = List.copyOf(names);
            return this;
        }

        public Builder command(String command) {
            this.command = command;
            return this;
        }

        public Builder commandOptions(String options) {
            this.commandOptions = options;
            return this;
        }

        public Builder userName(String userName) {
            this.userName = userName;
            return this;
        }

        public Builder connectionTimeout(double seconds) {
            this.connectionTimeout = seconds;
            return this;
        }

        public Builder writingTimeout(double seconds) {
            this.writingTimeout = seconds;
            return this;
        }

        public Builder readingTimeout(double seconds) {
            this.readingTimeout = seconds;
            return this;
        }

        public Builder endOfMessageTimeout(double seconds) {
            this.endOfMessageTimeout = seconds;
            return this;
        }

        public Egg build() {
            return new Egg(name, connectionSpec, description, enabled, fallbackStatus, evaluationMode,
                    applicableConditions, command, commandOptions, userName, connectionTimeout, writingTimeout,
                    readingTimeout, endOfMessageTimeout);
        }
    }
}
