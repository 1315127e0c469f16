package milter.server.tool;

import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import milter.core.protocol.Macros;

/** Macro tables of the test server: wire names ({@code j}, {@code {daemon_name}}), sorted as upstream sends them. */
final class MacroTable {
    /** By name without braces, so {@code name} and {@code {name}} are one macro. */
    static final Comparator<String> ORDER = Comparator.comparing(Macros::normalize);

    private MacroTable() {
    }

    static Map<String, String> newTable() {
        return new TreeMap<>(ORDER);
    }

    /** Adds or replaces a macro given as {@code name} or {@code {name}}. */
    static void put(Map<String, String> table, String name, String value) {
        table.remove(name);
        table.put(Macros.wireName(name), value);
    }
}
