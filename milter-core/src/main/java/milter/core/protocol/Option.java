package milter.core.protocol;

import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The contents of an {@code O} packet: protocol version, action flags, protocol flags and (in a milter's reply
 * only) the macro names it wants per stage. Immutable.
 */
public record Option(int version, int actions, int protocol, Map<MacroStage, List<String>> macroRequests) {

    public static final int CURRENT_VERSION = 6;

    public Option {
        EnumMap<MacroStage, List<String>> copy = new EnumMap<>(MacroStage.class);
        if (macroRequests != null) {
            macroRequests.forEach((stage, names) -> copy.put(stage, List.copyOf(names)));
        }
        macroRequests = Collections.unmodifiableMap(copy);
    }

    public Option(int version, int actions, int protocol) {
        this(version, actions, protocol, Map.of());
    }

    /** What an MTA offers at a protocol version: every action and flag that version knows. */
    public static Option offer(int version) {
        return new Option(version, ActionFlags.maskForVersion(version), ProtocolFlags.maskForVersion(version));
    }

    public boolean has(int protocolFlag) {
        return (protocol & protocolFlag) != 0;
    }

    public boolean allows(int actionFlag) {
        return (actions & actionFlag) != 0;
    }

    public Option withVersion(int newVersion) {
        return new Option(newVersion, actions, protocol, macroRequests);
    }

    public Option withActions(int newActions) {
        return new Option(version, newActions, protocol, macroRequests);
    }

    public Option withProtocol(int newProtocol) {
        return new Option(version, actions, newProtocol, macroRequests);
    }

    public Option withMacroRequests(Map<MacroStage, List<String>> requests) {
        return new Option(version, actions, protocol, requests);
    }

    /** The names requested for a stage, or null when the milter asked for no list there. */
    public List<String> macroRequest(MacroStage stage) {
        return macroRequests.get(stage);
    }

    @Override
    public String toString() {
        return "Option[version=" + version + ", actions=" + ActionFlags.toString(actions) + ", protocol="
                + ProtocolFlags.toString(protocol) + (macroRequests.isEmpty() ? "" : ", macros=" + macroRequests)
                + "]";
    }
}
