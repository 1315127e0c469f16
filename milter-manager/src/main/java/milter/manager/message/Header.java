package milter.manager.message;

import java.util.Objects;

/** One header field as the milter protocol carries it: name without colon, value without the leading space. */
public record Header(String name, String value) {
    public Header {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
