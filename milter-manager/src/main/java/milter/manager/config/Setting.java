package milter.manager.config;

import java.util.Locale;
import milter.core.log.LogFormat;
import milter.core.log.LogLevels;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;

/**
 * Every scalar key of {@code milter-manager.conf}, in the order {@code --show-config} prints them, with its type
 * and upstream's default. Values are stored in their Java form: String, Boolean, Integer, Double, Status,
 * ConnectionSpec.
 */
public enum Setting {
    PACKAGE_PLATFORM("package.platform", Type.STRING, Platform.detect()),
    PACKAGE_OPTIONS("package.options", Type.STRING, null),

    SECURITY_PRIVILEGE_MODE("security.privilege_mode", Type.BOOLEAN, false),
    SECURITY_EFFECTIVE_USER("security.effective_user", Type.STRING, null),
    SECURITY_EFFECTIVE_GROUP("security.effective_group", Type.STRING, null),

    LOG_LEVEL("log.level", Type.LOG_LEVEL, "default"),
    LOG_PATH("log.path", Type.STRING, null),
    LOG_USE_SYSLOG("log.use_syslog", Type.BOOLEAN, true),
    LOG_SYSLOG_FACILITY("log.syslog_facility", Type.STRING, "mail"),
    /** Not upstream's: {@code text} (upstream's lines) or {@code json} (JSON lines) for stdout and the log file. */
    LOG_FORMAT("log.format", Type.LOG_FORMAT, "text"),

    MANAGER_CONNECTION_SPEC("manager.connection_spec", Type.SPEC, Platform.defaultConnectionSpec()),
    MANAGER_UNIX_SOCKET_MODE("manager.unix_socket_mode", Type.MODE, 0660),
    MANAGER_UNIX_SOCKET_GROUP("manager.unix_socket_group", Type.STRING, null),
    MANAGER_REMOVE_UNIX_SOCKET_ON_CREATE("manager.remove_unix_socket_on_create", Type.BOOLEAN, true),
    MANAGER_REMOVE_UNIX_SOCKET_ON_CLOSE("manager.remove_unix_socket_on_close", Type.BOOLEAN, true),
    MANAGER_DAEMON("manager.daemon", Type.BOOLEAN, false),
    MANAGER_PID_FILE("manager.pid_file", Type.STRING, null),
    MANAGER_MAINTENANCE_INTERVAL("manager.maintenance_interval", Type.INTEGER, 10),
    MANAGER_SUSPEND_TIME_ON_UNACCEPTABLE("manager.suspend_time_on_unacceptable", Type.INTEGER, 5),
    MANAGER_MAX_CONNECTIONS("manager.max_connections", Type.INTEGER, 0),
    MANAGER_MAX_FILE_DESCRIPTORS("manager.max_file_descriptors", Type.INTEGER, 0),
    MANAGER_CUSTOM_CONFIGURATION_DIRECTORY("manager.custom_configuration_directory", Type.STRING, null),
    MANAGER_FALLBACK_STATUS("manager.fallback_status", Type.STATUS, Status.ACCEPT),
    MANAGER_FALLBACK_STATUS_AT_DISCONNECT("manager.fallback_status_at_disconnect", Type.STATUS,
            Status.TEMPORARY_FAILURE),
    MANAGER_EVENT_LOOP_BACKEND("manager.event_loop_backend", Type.STRING, "glib"),
    MANAGER_N_WORKERS("manager.n_workers", Type.INTEGER, 0),
    MANAGER_PACKET_BUFFER_SIZE("manager.packet_buffer_size", Type.INTEGER, 0),
    MANAGER_CONNECTION_CHECK_INTERVAL("manager.connection_check_interval", Type.INTEGER, 0),
    MANAGER_CHUNK_SIZE("manager.chunk_size", Type.INTEGER, 65535),
    MANAGER_MAX_PENDING_FINISHED_SESSIONS("manager.max_pending_finished_sessions", Type.INTEGER, 0),
    /** Not upstream's: where the metrics and health endpoint listens (HTTP); nil (the default) is off. */
    MANAGER_METRICS_SPEC("manager.metrics_spec", Type.SPEC, null),

    CONTROLLER_CONNECTION_SPEC("controller.connection_spec", Type.SPEC, null),
    CONTROLLER_UNIX_SOCKET_MODE("controller.unix_socket_mode", Type.MODE, 0660),
    CONTROLLER_UNIX_SOCKET_GROUP("controller.unix_socket_group", Type.STRING, null),
    CONTROLLER_REMOVE_UNIX_SOCKET_ON_CREATE("controller.remove_unix_socket_on_create", Type.BOOLEAN, true),
    CONTROLLER_REMOVE_UNIX_SOCKET_ON_CLOSE("controller.remove_unix_socket_on_close", Type.BOOLEAN, true),

    DATABASE_TYPE("database.type", Type.STRING, null),
    DATABASE_NAME("database.name", Type.STRING, null),
    DATABASE_HOST("database.host", Type.STRING, null),
    DATABASE_PORT("database.port", Type.INTEGER, null),
    DATABASE_PATH("database.path", Type.STRING, null),
    DATABASE_USER("database.user", Type.STRING, null),
    DATABASE_PASSWORD("database.password", Type.STRING, null);

    /** Value types, with how a value given as text (command line, XML) is converted. */
    public enum Type {
        STRING, BOOLEAN, INTEGER, MODE, STATUS, SPEC, LOG_LEVEL, LOG_FORMAT
    }

    private final String key;
    private final Type type;
    private final Object defaultValue;

    Setting(String key, Type type, Object defaultValue) {
        this.key = key;
        this.type = type;
        this.defaultValue = defaultValue;
    }

    public String key() {
        return key;
    }

    public Type type() {
        return type;
    }

    public Object defaultValue() {
        return defaultValue;
    }

    /**
     * Whether the key is this implementation's own (not upstream's): {@code --show-config} lists it only when the
     * configuration set it, so that an upstream configuration dumps as upstream's does.
     */
    public boolean isExtension() {
        return this == LOG_FORMAT || this == MANAGER_METRICS_SPEC;
    }

    /** The group a key belongs to: package, security, log, manager, controller or database. */
    public String group() {
        return key.substring(0, key.indexOf('.'));
    }

    public static Setting fromKey(String key) {
        for (Setting setting : values()) {
            if (setting.key.equals(key)) {
                return setting;
            }
        }
        return null;
    }

    /** What the setting accepts, as the tail of an error message: {@code should be one of [true, false]}. */
    public String expectation() {
        switch (type) {
            case BOOLEAN:
                return "should be one of [true, false]";
            case INTEGER:
                return "should be an integer";
            case MODE:
                return "should be a file mode (an integer such as 0660, or an octal string)";
            case STATUS:
                return "should be one of [accept, temporary-failure, reject, discard]";
            case SPEC:
                return "should be a connection spec (unix:PATH, inet:PORT@HOST, inet6:PORT@HOST)";
            case LOG_FORMAT:
                return "should be one of [text, json]";
            case LOG_LEVEL:
                return "should be a combination of [default, none, critical, error, warning, message, info, debug,"
                        + " trace, statistics, profile, all] joined by |";
            default:
                return "should be a string";
        }
    }

    /**
     * Converts a value to this setting's Java type, checking it.
     *
     * @throws IllegalArgumentException {@code KEY should be ... but was <VALUE>}, with the cause's detail for
     *                                  connection specs
     */
    public Object convert(Object value) {
        if (value == null) {
            return null;
        }
        try {
            switch (type) {
                case STRING:
                    return value.toString();
                case BOOLEAN:
                    if (value instanceof Boolean) {
                        return value;
                    }
                    String text = value.toString().trim().toLowerCase(Locale.ROOT);
                    if (text.equals("true") || text.equals("yes")) {
                        return Boolean.TRUE;
                    }
                    if (text.equals("false") || text.equals("no")) {
                        return Boolean.FALSE;
                    }
                    throw new IllegalArgumentException(text);
                case INTEGER:
                    if (value instanceof Number number) {
                        return toInt(number);
                    }
                    return Integer.parseInt(value.toString().trim());
                case MODE:
                    if (value instanceof Number number) {
                        return toInt(number);
                    }
                    return Integer.parseInt(value.toString().trim(), 8);
                case STATUS:
                    return value instanceof Status status ? Status.fallbackFromNick(status.nick())
                            : Status.fallbackFromNick(value.toString());
                case SPEC:
                    return value instanceof ConnectionSpec ? value : ConnectionSpec.parse(value.toString());
                case LOG_LEVEL:
                    LogLevels.parse(value.toString());
                    return value.toString();
                case LOG_FORMAT:
                    return LogFormat.parse(value.toString()).nick();
                default:
                    throw new IllegalStateException(type.name());
            }
        } catch (IllegalArgumentException e) {
            String detail = type == Type.SPEC ? " (" + e.getMessage() + ")" : "";
            throw new IllegalArgumentException(key + " " + expectation() + " but was <" + value + ">" + detail, e);
        }
    }

    private static int toInt(Number number) {
        long value = number.longValue();
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("out of range: " + value);
        }
        return (int) value;
    }
}
