package milter.manager.config.ruby;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import milter.manager.config.Configuration;
import milter.manager.config.ConfigurationError;
import milter.manager.config.ConfigurationHooks;
import milter.manager.config.ConnectionChecker;
import milter.manager.config.Egg;
import milter.manager.config.HookEventLoop;
import milter.manager.config.PathResolver;
import milter.manager.config.Setting;
import org.jruby.RubyProc;

/**
 * One configuration load, as the Ruby DSL library sees it: it writes values, eggs, conditions and hooks into a
 * fresh {@link Configuration.Builder} and reports problems here. Nothing of a load reaches a running daemon until
 * the caller takes the finished snapshot.
 */
public final class LoadSession {
    static final String ERROR_TAGS = "[configuration][load][error]";

    private final RubyRuntime runtime;
    private final Configuration.Builder builder;
    private final Map<Setting, Object> defaults;
    private final List<Path> loadPaths;
    private final List<ConfigurationError> errors = new ArrayList<>();
    private final List<String> loadedFiles = new ArrayList<>();
    private final List<Runnable> maintained = new ArrayList<>();
    private final List<Consumer<HookEventLoop>> eventLoopCreated = new ArrayList<>();
    private final Map<String, ConnectionChecker> checkers = new LinkedHashMap<>();
    private int netstatInterval;

    LoadSession(RubyRuntime runtime, List<Path> loadPaths, String platform) {
        this.runtime = runtime;
        this.builder = Configuration.builder();
        this.loadPaths = new ArrayList<>(loadPaths);
        this.defaults = new EnumMap<>(Setting.class);
        for (Setting setting : Setting.values()) {
            defaults.put(setting, builder.get(setting));
        }
        if (platform != null) {
            defaults.put(Setting.PACKAGE_PLATFORM, platform);
            defaults.put(Setting.MANAGER_CONNECTION_SPEC,
                    Setting.MANAGER_CONNECTION_SPEC.convert(milter.manager.config.Platform.defaultConnectionSpec(platform)));
            builder.set(Setting.PACKAGE_PLATFORM, platform);
            builder.set(Setting.MANAGER_CONNECTION_SPEC, defaults.get(Setting.MANAGER_CONNECTION_SPEC));
        }
    }

    Configuration.Builder builder() {
        return builder;
    }

    List<ConfigurationError> errors() {
        return errors;
    }

    List<String> loadedFiles() {
        return loadedFiles;
    }

    ConfigurationHooks hooks() {
        if (maintained.isEmpty() && eventLoopCreated.isEmpty() && checkers.isEmpty() && netstatInterval == 0) {
            return ConfigurationHooks.NONE;
        }
        return new ConfigurationHooks(maintained, eventLoopCreated, checkers, netstatInterval);
    }

    // ------------------------------------------------------------------------------------------------ settings

    /** A setting's value as Ruby should see it: a status nick, a spec's text, or the plain value. */
    public Object get(String key) {
        Object value = builder.get(setting(key));
        if (value instanceof Status status) {
            return status.nick();
        }
        if (value instanceof ConnectionSpec) {
            return value.toString();
        }
        return value;
    }

    /**
     * Sets a setting and records where.
     *
     * @param inspected the value as Ruby's {@code inspect} shows it
     * @return null, or {@code KEY should be ... but was VALUE}
     */
    public String set(String key, Object value, String inspected, String file, long line) {
        Setting setting = setting(key);
        Object converted;
        try {
            converted = setting.convert(value);
        } catch (IllegalArgumentException e) {
            String detail = setting.type() == Setting.Type.SPEC && e.getCause() != null
                    ? " (" + e.getCause().getMessage() + ")" : "";
            return key + " " + setting.expectation() + " but was " + inspected + detail;
        }
        switch (setting) {
            case MANAGER_EVENT_LOOP_BACKEND:
                if (!converted.equals("glib") && !converted.equals("libev")) {
                    return key + " should be one of [glib, libev] but was " + inspected;
                }
                break;
            case MANAGER_CHUNK_SIZE:
                converted = Math.min(65535, (Integer) converted);
                break;
            case MANAGER_N_WORKERS:
                if ((Integer) converted < 0 || (Integer) converted > 1000) {
                    return key + " should be from 0 to 1000 but was " + inspected;
                }
                break;
            default:
                break;
        }
        builder.set(setting, converted, location(file, line));
        return null;
    }

    /** {@code KEY = nil}: back to the default (0 for {@code manager.maintenance_interval}, as upstream). */
    public void reset(String key) {
        Setting setting = setting(key);
        Object value = setting == Setting.MANAGER_MAINTENANCE_INTERVAL ? Integer.valueOf(0) : defaults.get(setting);
        builder.set(setting, value, null);
    }

    public void setLocation(String key, String file, long line) {
        builder.location(key, location(file, line));
    }

    public void resetLocation(String key) {
        builder.location(key, null);
    }

    public Map<String, String> locations() {
        return new LinkedHashMap<>(builder.locations());
    }

    private static String location(String file, long line) {
        return file == null ? null : file + ":" + line;
    }

    private static Setting setting(String key) {
        Setting setting = Setting.fromKey(key);
        if (setting == null) {
            throw new IllegalArgumentException("unknown configuration key: " + key);
        }
        return setting;
    }

    // ---------------------------------------------------------------------------------------------- load paths

    public List<String> loadPaths() {
        List<String> paths = new ArrayList<>();
        loadPaths.forEach(path -> paths.add(path.toString()));
        return paths;
    }

    public void appendLoadPath(String path) {
        loadPaths.add(Path.of(path));
    }

    public void prependLoadPath(String path) {
        loadPaths.add(0, Path.of(path));
    }

    public void clearLoadPaths() {
        loadPaths.clear();
    }

    public List<String> resolvePath(String path) {
        List<String> resolved = new ArrayList<>();
        PathResolver.resolve(loadPaths, path).forEach(found -> resolved.add(found.toString()));
        return resolved;
    }

    // -------------------------------------------------------------------------------------------------- milters

    /** A new definition of {@code name}, carrying over what upstream carries over from an earlier one. */
    public EggDraft eggDraft(String name) {
        Egg existing = builder.egg(name);
        return existing == null ? EggDraft.fresh(name) : EggDraft.redefining(existing);
    }

    /** A change to an existing milter that keeps every field, or null when there is no such milter. */
    public EggDraft amendEgg(String name) {
        Egg existing = builder.egg(name);
        return existing == null ? null : EggDraft.amending(existing);
    }

    /**
     * Replaces a draft's condition list; conditions that stay keep their recorded location.
     *
     * @return null, or {@code applicable condition should be one of [...] but was VALUE}
     */
    public String setEggConditions(EggDraft draft, List<?> names, String inspected) {
        List<String> checked = new ArrayList<>();
        for (Object name : names) {
            String text = String.valueOf(name);
            if (builder.condition(text) == null) {
                return unknownCondition(inspected);
            }
            checked.add(text);
        }
        for (String old : draft.conditions()) {
            if (!checked.contains(old)) {
                builder.location("milter[" + draft.name() + "].applicable_condition[" + old + "]", null);
            }
        }
        draft.setConditions(checked);
        return null;
    }

    /** Appends a condition to a draft; null, or the error message. */
    public String addEggCondition(EggDraft draft, String name, String inspected, String file, long line) {
        if (builder.condition(name) == null) {
            return unknownCondition(inspected);
        }
        builder.location("milter[" + draft.name() + "].applicable_condition[" + name + "]", location(file, line));
        draft.addCondition(name);
        return null;
    }

    private String unknownCondition(String inspected) {
        return "applicable condition should be one of " + builder.conditionNames().toString()
                + " but was " + inspected;
    }

    /** Ends a {@code define_milter} block: the milter is replaced and moves last, as upstream does. */
    public void commitEgg(EggDraft draft) {
        if (draft.redefinition()) {
            for (String key : List.of("fallback_status", "evaluation_mode")) {
                if (!draft.assigned(key)) {
                    builder.location("milter[" + draft.name() + "]." + key, null);
                }
            }
        }
        builder.egg(draft.build());
    }

    public void removeEgg(String name) {
        builder.removeEgg(name);
        builder.removeLocations("milter[" + name + "]");
    }

    public List<String> eggNames() {
        return builder.eggNames();
    }

    public Egg egg(String name) {
        return builder.egg(name);
    }

    // ---------------------------------------------------------------------------------------------- conditions

    public ConditionDraft conditionDraft(String name) {
        milter.manager.condition.ApplicableCondition existing = builder.condition(name);
        return new ConditionDraft(name, existing == null ? null : existing.description());
    }

    /** Ends a {@code define_applicable_condition} block: the condition is replaced and moves last. */
    public void commitCondition(ConditionDraft draft) {
        builder.condition(new RubyApplicableCondition(runtime, draft.name(), draft.description(), draft.stoppers()));
    }

    public List<String> conditionNames() {
        return builder.conditionNames();
    }

    public boolean hasCondition(String name) {
        return builder.condition(name) != null;
    }

    public String conditionDescription(String name) {
        milter.manager.condition.ApplicableCondition condition = builder.condition(name);
        return condition == null ? null : condition.description();
    }

    // --------------------------------------------------------------------------------------------------- hooks

    public void addMaintainedHook(RubyProc hook) {
        maintained.add(RubyHooks.maintained(runtime, hook));
    }

    public void addEventLoopCreatedHook(RubyProc hook) {
        eventLoopCreated.add(RubyHooks.eventLoopCreated(runtime, hook));
    }

    /** Same name replaces (and keeps its place), as upstream. */
    public void defineConnectionChecker(String name, RubyProc checker) {
        checkers.put(name, RubyHooks.connectionChecker(runtime, name, checker));
    }

    public void useNetstatConnectionChecker(long interval) {
        netstatInterval = (int) Math.max(1, Math.min(Integer.MAX_VALUE, interval));
        checkers.put("netstat", RubyHooks.NETSTAT_PLACEHOLDER);
    }

    public void addMemoryReport() {
        maintained.add(RubyHooks.MEMORY_REPORT);
    }

    // ----------------------------------------------------------------------------------------------- reporting

    public void fileLoaded(String file) {
        loadedFiles.add(file);
    }

    /** An invalid (or missing) value: the rest of {@code file} was skipped. */
    public void invalidValue(String file, long line, String message, List<?> backtrace) {
        report(ConfigurationError.Kind.INVALID_VALUE, file, line, message, backtrace);
    }

    /** Any other exception: the rest of the load was skipped. */
    public void aborted(String file, long line, String message, List<?> backtrace) {
        report(ConfigurationError.Kind.ABORTED, file, line, message, backtrace);
    }

    public void missingFile(String file, String message) {
        ConfigurationError error = new ConfigurationError(ConfigurationError.Kind.MISSING_FILE, file, 0, message,
                List.of());
        errors.add(error);
        TaggedLogger.error(TaggedLogger.NO_SESSION, ERROR_TAGS, message);
    }

    void custom(String file, int line, String message) {
        ConfigurationError error = new ConfigurationError(ConfigurationError.Kind.CUSTOM, file, line, message,
                List.of());
        errors.add(error);
        TaggedLogger.error(TaggedLogger.NO_SESSION, "[configuration][load][custom][error]", error.toString());
    }

    private void report(ConfigurationError.Kind kind, String file, long line, String message, List<?> backtrace) {
        List<String> frames = new ArrayList<>();
        for (Object frame : backtrace) {
            frames.add(String.valueOf(frame));
        }
        ConfigurationError error = new ConfigurationError(kind, file, (int) line, message, frames);
        errors.add(error);
        TaggedLogger.error(TaggedLogger.NO_SESSION, ERROR_TAGS, error.toString());
        for (String frame : frames) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, ERROR_TAGS, frame);
        }
    }
}
