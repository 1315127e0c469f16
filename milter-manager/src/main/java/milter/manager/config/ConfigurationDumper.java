package milter.manager.config;

import milter.core.log.LogLevels;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;

/**
 * Renders a configuration the way upstream's {@code milter-manager --show-config} does: valid DSL, one item per
 * key preceded by {@code # FILE:LINE} (where it was last set) or {@code # default}; groups package, security,
 * log, manager, controller, database, then each applicable condition and each milter, separated by blank lines.
 * Loading the output back gives the same values, eggs and condition names and descriptions.
 */
public final class ConfigurationDumper {
    private final Configuration configuration;
    private final StringBuilder out = new StringBuilder(8192);

    private ConfigurationDumper(Configuration configuration) {
        this.configuration = configuration;
    }

    /** The full text, ending with one newline. */
    public static String dump(Configuration configuration) {
        return new ConfigurationDumper(configuration).render();
    }

    private String render() {
        String group = null;
        for (Setting setting : Setting.values()) {
            if (setting.isExtension() && configuration.location(setting.key()) == null) {
                continue;
            }
            if (group != null && !group.equals(setting.group())) {
                out.append('\n');
            }
            group = setting.group();
            item("", setting.key(), setting.key(), value(setting));
        }
        out.append('\n');
        for (ApplicableCondition condition : configuration.conditions().values()) {
            condition(condition);
            out.append('\n');
        }
        for (Egg egg : configuration.eggs()) {
            egg(egg);
            out.append('\n');
        }
        int end = out.length();
        while (end > 0 && Character.isWhitespace(out.charAt(end - 1))) {
            end--;
        }
        out.setLength(end);
        return out.append('\n').toString();
    }

    private String value(Setting setting) {
        Object value = configuration.get(setting);
        switch (setting) {
            case LOG_LEVEL:
                return RubyInspect.inspect(LogLevels.format(LogLevels.parse(value == null ? null : value.toString())));
            case MANAGER_UNIX_SOCKET_MODE: {
                // upstream prints "%#o": no leading zero for 0
                int mode = value == null ? 0 : (Integer) value;
                return mode == 0 ? "0" : "0" + Integer.toOctalString(mode);
            }
            case CONTROLLER_UNIX_SOCKET_MODE:
                return "0" + Integer.toOctalString(value == null ? 0 : (Integer) value);
            case MANAGER_MAINTENANCE_INTERVAL:
                return value == null || ((Integer) value) == 0 ? "nil" : value.toString();
            default:
                break;
        }
        if (value == null) {
            return "nil";
        }
        switch (setting.type()) {
            case STATUS:
                return RubyInspect.inspect(((Status) value).nick());
            case SPEC:
            case STRING:
            case LOG_LEVEL:
            case LOG_FORMAT:
                return RubyInspect.inspect(value.toString());
            default:
                return value.toString();
        }
    }

    private void location(String key, String indent) {
        String location = key == null ? null : configuration.location(key);
        out.append(indent).append("# ").append(location == null ? "default" : location).append('\n');
    }

    private void item(String indent, String locationKey, String key, String value) {
        location(locationKey, indent);
        out.append(indent).append(key).append(" = ").append(value).append('\n');
    }

    private void condition(ApplicableCondition condition) {
        String name = condition.name();
        String prefix = "applicable_condition[" + name + "]";
        location(prefix, "");
        out.append("define_applicable_condition(").append(RubyInspect.dump(name)).append(") do |condition|\n");
        item("  ", prefix + ".description", "condition.description", RubyInspect.inspect(condition.description()));
        out.append("end\n");
    }

    private void egg(Egg egg) {
        String name = egg.name();
        String prefix = "milter[" + name + "]";
        location(prefix, "");
        out.append("define_milter(").append(RubyInspect.inspect(name)).append(") do |milter|\n");
        ConnectionSpec spec = egg.connectionSpec();
        eggItem(prefix, "connection_spec", RubyInspect.inspect(spec == null ? null : spec.toString()));
        eggItem(prefix, "description", RubyInspect.inspect(egg.description()));
        eggItem(prefix, "enabled", Boolean.toString(egg.enabled()));
        eggItem(prefix, "fallback_status", RubyInspect.inspect(egg.fallbackStatus().nick()));
        eggItem(prefix, "evaluation_mode", Boolean.toString(egg.evaluationMode()));
        if (egg.applicableConditions().isEmpty()) {
            location(null, "  ");
            out.append("  milter.applicable_conditions = []\n");
        } else {
            out.append("  milter.applicable_conditions = [\n");
            for (String condition : egg.applicableConditions()) {
                location(prefix + ".applicable_condition[" + condition + "]", "    ");
                out.append("    ").append(RubyInspect.inspect(condition)).append(",\n");
            }
            out.append("  ]\n");
        }
        eggItem(prefix, "command", RubyInspect.inspect(egg.command()));
        eggItem(prefix, "command_options", RubyInspect.inspect(egg.commandOptions()));
        eggItem(prefix, "user_name", RubyInspect.inspect(egg.userName()));
        eggItem(prefix, "connection_timeout", RubyInspect.floatText(egg.connectionTimeout()));
        eggItem(prefix, "writing_timeout", RubyInspect.floatText(egg.writingTimeout()));
        eggItem(prefix, "reading_timeout", RubyInspect.floatText(egg.readingTimeout()));
        eggItem(prefix, "end_of_message_timeout", RubyInspect.floatText(egg.endOfMessageTimeout()));
        out.append("end\n");
    }

    private void eggItem(String prefix, String key, String value) {
        item("  ", prefix + "." + key, "milter." + key, value);
    }
}
