package milter.manager.controller;

import java.nio.file.Path;
import milter.manager.condition.ApplicableCondition;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;

/**
 * The configuration as the controller's {@code get-configuration} returns it: upstream's XML, two spaces per
 * level, text escaped as GLib's markup escaping does. {@code <last-modified>} (seconds since the epoch) is there
 * when a {@code milter-manager.custom.conf} exists in the load path.
 */
public final class ConfigurationXml {
    private final StringBuilder out = new StringBuilder(2048);

    private ConfigurationXml() {
    }

    /**
     * @param customFileModified the custom file's modification time in seconds, or null when there is none
     */
    public static String render(Configuration configuration, Long customFileModified) {
        return new ConfigurationXml().configuration(configuration, customFileModified);
    }

    /** Renders with the modification time of the custom file found in {@code loadPaths}, if any. */
    public static String render(Configuration configuration, java.util.List<Path> loadPaths) {
        return render(configuration, CustomConfigurationStore.lastModified(loadPaths));
    }

    private String configuration(Configuration configuration, Long customFileModified) {
        out.append("<configuration>\n");
        if (customFileModified != null) {
            element(2, "last-modified", Long.toString(customFileModified));
        }
        if (!configuration.conditions().isEmpty()) {
            indent(2).append("<applicable-conditions>\n");
            for (ApplicableCondition condition : configuration.conditions().values()) {
                indent(4).append("<applicable-condition>\n");
                element(6, "name", condition.name());
                if (condition.description() != null) {
                    element(6, "description", condition.description());
                }
                indent(4).append("</applicable-condition>\n");
            }
            indent(2).append("</applicable-conditions>\n");
        }
        if (!configuration.eggs().isEmpty()) {
            indent(2).append("<milters>\n");
            for (Egg egg : configuration.eggs()) {
                egg(egg);
            }
            indent(2).append("</milters>\n");
        }
        out.append("</configuration>\n");
        return out.toString();
    }

    private void egg(Egg egg) {
        indent(4).append("<milter>\n");
        element(6, "name", egg.name());
        if (egg.description() != null) {
            element(6, "description", egg.description());
        }
        element(6, "enabled", Boolean.toString(egg.enabled()));
        element(6, "fallback-status", egg.fallbackStatus().nick());
        element(6, "evaluation-mode", Boolean.toString(egg.evaluationMode()));
        if (egg.connectionSpec() != null) {
            element(6, "connection-spec", egg.connectionSpec().toString());
        }
        if (egg.command() != null) {
            element(6, "command", egg.command());
        }
        if (egg.commandOptions() != null) {
            element(6, "command-options", egg.commandOptions());
        }
        if (!egg.applicableConditions().isEmpty()) {
            indent(6).append("<applicable-conditions>\n");
            for (String condition : egg.applicableConditions()) {
                element(8, "applicable-condition", condition);
            }
            indent(6).append("</applicable-conditions>\n");
        }
        indent(4).append("</milter>\n");
    }

    private StringBuilder indent(int spaces) {
        for (int i = 0; i < spaces; i++) {
            out.append(' ');
        }
        return out;
    }

    private void element(int spaces, String name, String text) {
        indent(spaces).append('<').append(name).append('>');
        escape(out, text);
        out.append("</").append(name).append(">\n");
    }

    /** GLib's {@code g_markup_escape_text}: the five markup characters, and control characters as references. */
    static void escape(StringBuilder out, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&':
                    out.append("&amp;");
                    break;
                case '<':
                    out.append("&lt;");
                    break;
                case '>':
                    out.append("&gt;");
                    break;
                case '\'':
                    out.append("&#39;");
                    break;
                case '"':
                    out.append("&quot;");
                    break;
                default:
                    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x7F && c <= 0x84)
                            || (c >= 0x86 && c <= 0x9F)) {
                        out.append("&#x").append(Integer.toHexString(c)).append(';');
                    } else {
                        out.append(c);
                    }
                    break;
            }
        }
    }
}
