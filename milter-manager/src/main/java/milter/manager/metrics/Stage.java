package milter.manager.metrics;

import milter.core.protocol.CommandType;

/** The MTA command stages the metrics are labelled with (upstream's names). */
enum Stage {
    NEGOTIATE, CONNECT, HELO, ENVELOPE_FROM, ENVELOPE_RECIPIENT, DATA, UNKNOWN, HEADER, END_OF_HEADER, BODY,
    END_OF_MESSAGE;

    private static final Stage[] VALUES = values();

    private final String label;

    Stage() {
        this.label = name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    String label() {
        return label;
    }

    static Stage of(CommandType type) {
        for (Stage stage : VALUES) {
            if (stage.name().equals(type.name())) {
                return stage;
            }
        }
        return null;
    }
}
