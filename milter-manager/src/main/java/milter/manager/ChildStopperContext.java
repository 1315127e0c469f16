package milter.manager;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import milter.core.protocol.CommandType;
import milter.core.protocol.Macros;
import milter.core.protocol.Status;
import milter.manager.condition.StopperContext;

/** The {@code context} a stopper sees of one child at one stage (upstream's {@code ChildContext}). */
final class ChildStopperContext implements StopperContext {
    private final Child child;
    private final CommandType stage;
    private final List<Child> children;
    private final Macros mtaMacros;
    private final IntSupplier processingSessions;
    private final Map<String, Object> mailTransactionShelf;

    ChildStopperContext(Child child, CommandType stage, List<Child> children, Macros mtaMacros,
            IntSupplier processingSessions, Map<String, Object> mailTransactionShelf) {
        this.child = child;
        this.stage = stage;
        this.children = children;
        this.mtaMacros = mtaMacros;
        this.processingSessions = processingSessions;
        this.mailTransactionShelf = mailTransactionShelf;
    }

    @Override
    public String name() {
        return child.name();
    }

    @Override
    public String macro(String name) {
        Map<String, String> extra = child.conditionMacros.get(stage);
        String key = Macros.normalize(name);
        if (extra != null && extra.containsKey(key)) {
            return extra.get(key);
        }
        return mtaMacros == null ? null : mtaMacros.get(key, stage);
    }

    @Override
    public void setMacro(String name, String value) {
        child.setConditionMacro(stage, Macros.normalize(name), value);
    }

    @Override
    public Status status() {
        return child.lastStatus;
    }

    @Override
    public boolean quitted() {
        return child.quitted();
    }

    @Override
    public Map<String, StopperContext> children() {
        Map<String, StopperContext> all = new LinkedHashMap<>();
        for (Child other : children) {
            all.put(other.name(), new ChildStopperContext(other, stage, children, mtaMacros, processingSessions,
                    mailTransactionShelf));
        }
        return all;
    }

    @Override
    public int processingSessions() {
        return processingSessions.getAsInt();
    }

    @Override
    public Map<String, Object> mailTransactionShelf() {
        return mailTransactionShelf;
    }
}
