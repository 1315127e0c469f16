package milter.manager.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to load: the load path (searched in order; upstream: {@code --config-dir}, then
 * {@code $MILTER_MANAGER_CONFIG_DIR}, then {@code PREFIX/etc/milter-manager}, then the custom directory), the
 * top-level file name, the platform whose defaults apply, and command-line overrides that win over the files
 * and survive reloads.
 */
public final class LoadRequest {
    public static final String DEFAULT_FILE = "milter-manager.conf";
    public static final String CUSTOM_FILE = "milter-manager.custom.conf";

    private final List<Path> loadPaths;
    private final String file;
    private final String platform;
    private final Map<Setting, Object> overrides;
    private final boolean loadCustom;

    private LoadRequest(Builder builder) {
        this.loadPaths = List.copyOf(builder.loadPaths);
        this.file = builder.file;
        this.platform = builder.platform;
        this.overrides = new EnumMap<>(builder.overrides);
        this.loadCustom = builder.loadCustom;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Load {@code milter-manager.conf} from these directories, nothing else. */
    public static LoadRequest of(Path... loadPaths) {
        Builder builder = builder();
        for (Path path : loadPaths) {
            builder.loadPath(path);
        }
        return builder.build();
    }

    public List<Path> loadPaths() {
        return loadPaths;
    }

    public String file() {
        return file;
    }

    public String platform() {
        return platform;
    }

    public Map<Setting, Object> overrides() {
        return overrides;
    }

    public boolean loadCustom() {
        return loadCustom;
    }

    public static final class Builder {
        private final List<Path> loadPaths = new ArrayList<>();
        private String file = DEFAULT_FILE;
        private String platform = (String) Setting.PACKAGE_PLATFORM.defaultValue();
        private final Map<Setting, Object> overrides = new EnumMap<>(Setting.class);
        private boolean loadCustom = true;

        public Builder loadPath(Path path) {
            loadPaths.add(Objects.requireNonNull(path));
            return this;
        }

        public Builder loadPaths(List<Path> paths) {
            paths.forEach(this::loadPath);
            return this;
        }

        /** The top-level file: a name searched in the load path, or an absolute path. */
        public Builder file(String file) {
            this.file = Objects.requireNonNull(file);
            return this;
        }

        /** The platform ({@code debian}, {@code redhat} ...): the default of {@code package.platform} and of
         * {@code manager.connection_spec}. Defaults to the detected one. */
        public Builder platform(String platform) {
            this.platform = Objects.requireNonNull(platform);
            return this;
        }

        /** A command-line value: applied after the files, not recorded as a file location. */
        public Builder override(Setting setting, Object value) {
            overrides.put(setting, setting.convert(value));
            return this;
        }

        /** Whether to load {@code milter-manager.custom.conf} (the controller's XML) after the main file. */
        public Builder loadCustom(boolean loadCustom) {
            this.loadCustom = loadCustom;
            return this;
        }

        public LoadRequest build() {
            return new LoadRequest(this);
        }
    }
}
