package milter.manager.config;

import java.util.List;

/** A strict load ({@code --check-config}) met errors; they are listed in the message. */
public final class ConfigurationException extends Exception {
    private final transient List<ConfigurationError> errors;

    public ConfigurationException(List<ConfigurationError> errors) {
        super(describe(errors));
        this.errors = List.copyOf(errors);
    }

    public List<ConfigurationError> errors() {
        return errors;
    }

    private static String describe(List<ConfigurationError> errors) {
        StringBuilder text = new StringBuilder();
        text.append(errors.size()).append(errors.size() == 1 ? " configuration error" : " configuration errors");
        for (ConfigurationError error : errors) {
            text.append("\n").append(error);
        }
        return text.toString();
    }
}
