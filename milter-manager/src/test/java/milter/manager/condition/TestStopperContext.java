package milter.manager.condition;

import java.util.LinkedHashMap;
import java.util.Map;
import milter.core.protocol.Macros;
import milter.core.protocol.Status;

/** A stopper context for tests: macros in a map, what stoppers set kept apart so tests can see it. */
public final class TestStopperContext implements StopperContext {
    private final String name;
    public final Map<String, String> macros = new LinkedHashMap<>();
    public final Map<String, String> setMacros = new LinkedHashMap<>();
    public final Map<String, StopperContext> children = new LinkedHashMap<>();
    public final Map<String, Object> shelf = new LinkedHashMap<>();
    public Status status;
    public boolean quitted;
    public int processingSessions;

    public TestStopperContext(String name) {
        this.name = name;
        children.put(name, this);
    }

    public TestStopperContext macro(String name, String value) {
        macros.put(Macros.normalize(name), value);
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String macro(String name) {
        String key = Macros.normalize(name);
        return setMacros.containsKey(key) ? setMacros.get(key) : macros.get(key);
    }

    @Override
    public void setMacro(String name, String value) {
        setMacros.put(Macros.normalize(name), value);
    }

    @Override
    public Status status() {
        return status;
    }

    @Override
    public boolean quitted() {
        return quitted;
    }

    @Override
    public Map<String, StopperContext> children() {
        return children;
    }

    @Override
    public int processingSessions() {
        return processingSessions;
    }

    @Override
    public Map<String, Object> mailTransactionShelf() {
        return shelf;
    }
}
