package milter.manager.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;

/**
 * One immutable configuration snapshot. Sessions take the snapshot current when they start; a reload builds a
 * new one and swaps it in whole, so a failing reload leaves nothing half-applied.
 */
public final class Configuration {
    private final EnumMap<Setting, Object> values;
    private final Map<String, String> locations;
    private final List<Egg> eggs;
    private final Map<String, ApplicableCondition> conditions;
    private final ConfigurationHooks hooks;

    private Configuration(Builder builder) {
        this.values = new EnumMap<>(builder.values);
        this.locations = Collections.unmodifiableMap(new LinkedHashMap<>(builder.locations));
        this.eggs = List.copyOf(builder.eggs.values());
        this.conditions = Collections.unmodifiableMap(new LinkedHashMap<>(builder.conditions));
        this.hooks = builder.hooks;
    }

    public static Configuration defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.values.putAll(values);
        builder.locations.putAll(locations);
        eggs.forEach(egg -> builder.eggs.put(egg.name(), egg));
        builder.conditions.putAll(conditions);
        builder.hooks = hooks;
        return builder;
    }

    public Object get(Setting setting) {
        return values.get(setting);
    }

    public String string(Setting setting) {
        Object value = values.get(setting);
        return value == null ? null : value.toString();
    }

    public boolean bool(Setting setting) {
        Object value = values.get(setting);
        return value != null && (Boolean) value;
    }

    public int integer(Setting setting) {
        Object value = values.get(setting);
        return value == null ? 0 : (Integer) value;
    }

    public Status status(Setting setting) {
        return (Status) values.get(setting);
    }

    public ConnectionSpec spec(Setting setting) {
        return (ConnectionSpec) values.get(setting);
    }

    /** Where a key was last set ({@code FILE:LINE}), or null for a default. */
    public String location(String key) {
        return locations.get(key);
    }

    public Map<String, String> locations() {
        return locations;
    }

    public List<Egg> eggs() {
        return eggs;
    }

    public Egg egg(String name) {
        for (Egg egg : eggs) {
            if (egg.name().equals(name)) {
                return egg;
            }
        }
        return null;
    }

    public Map<String, ApplicableCondition> conditions() {
        return conditions;
    }

    public ApplicableCondition condition(String name) {
        return conditions.get(name);
    }

    /** What the configuration asked the daemon to run: maintenance and event-loop hooks, connection checkers. */
    public ConfigurationHooks hooks() {
        return hooks;
    }

    public Status fallbackStatus() {
        return status(Setting.MANAGER_FALLBACK_STATUS);
    }

    /** {@code manager.chunk_size} clamped to 1..65535 as upstream does. */
    public int chunkSize() {
        int size = integer(Setting.MANAGER_CHUNK_SIZE);
        return Math.max(1, Math.min(65535, size));
    }

    /** Mutable companion of the snapshot, filled by the loader or by tests. */
    public static final class Builder {
        private final EnumMap<Setting, Object> values = new EnumMap<>(Setting.class);
        private final Map<String, String> locations = new LinkedHashMap<>();
        private final LinkedHashMap<String, Egg> eggs = new LinkedHashMap<>();
        private final LinkedHashMap<String, ApplicableCondition> conditions = new LinkedHashMap<>();
        private ConfigurationHooks hooks = ConfigurationHooks.NONE;

        private Builder() {
            for (Setting setting : Setting.values()) {
                values.put(setting, setting.convert(setting.defaultValue()));
            }
        }

        public Object get(Setting setting) {
            return values.get(setting);
        }

        /** Sets a value (converted and checked); {@code location} is {@code FILE:LINE} or null. */
        public Builder set(Setting setting, Object value, String location) {
            values.put(setting, setting.convert(value));
            if (location == null) {
                locations.remove(setting.key());
            } else {
                locations.put(setting.key(), location);
            }
            return this;
        }

        public Builder set(Setting setting, Object value) {
            return set(setting, value, null);
        }

        public Builder location(String key, String location) {
            if (location == null) {
                locations.remove(key);
            } else {
                locations.put(key, location);
            }
            return this;
        }

        /** Adds an egg; one with the same name is replaced and the new one moves last, as upstream does. */
        public Builder egg(Egg egg) {
            eggs.remove(egg.name());
            eggs.put(egg.name(), egg);
            return this;
        }

        public Egg egg(String name) {
            return eggs.get(name);
        }

        public Builder removeEgg(String name) {
            eggs.remove(name);
            return this;
        }

        public List<String> eggNames() {
            return new ArrayList<>(eggs.keySet());
        }

        /** Adds a condition; one with the same name is replaced and moves last. */
        public Builder condition(ApplicableCondition condition) {
            conditions.remove(condition.name());
            conditions.put(condition.name(), condition);
            return this;
        }

        public ApplicableCondition condition(String name) {
            return conditions.get(name);
        }

        public Builder removeCondition(String name) {
            conditions.remove(name);
            return this;
        }

        public List<String> conditionNames() {
            return new ArrayList<>(conditions.keySet());
        }

        public Builder hooks(ConfigurationHooks hooks) {
            this.hooks = java.util.Objects.requireNonNull(hooks, "hooks");
            return this;
        }

        public ConfigurationHooks hooks() {
            return hooks;
        }

        /** The location recorded for a key, or null. */
        public String location(String key) {
            return locations.get(key);
        }

        /** Every recorded location ({@code KEY -> FILE:LINE}), read only. */
        public Map<String, String> locations() {
            return Collections.unmodifiableMap(locations);
        }

        /** Forgets the locations of a key and of every key below it ({@code milter[NAME]}, {@code milter[NAME].x}). */
        public Builder removeLocations(String prefix) {
            locations.keySet().removeIf(key -> key.equals(prefix) || key.startsWith(prefix + ".")
                    || key.startsWith(prefix + "["));
            return this;
        }

        public Configuration build() {
            return new Configuration(this);
        }
    }
}
