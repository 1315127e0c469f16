package milter.manager.e2e;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Hands the run's {@link Children} to an {@link EndToEndCases} instance before its {@code @BeforeAll} method. A
 * missing component is checked first and ends the class as the requirement says (failed under CI, skipped
 * elsewhere), not as an error of the extension.
 */
final class SharedChildren implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) {
        Children.requireAvailable();
        Object instance = context.getTestInstance().orElseThrow(() -> new IllegalStateException(
                "end-to-end cases need the per-class test instance lifecycle"));
        ((EndToEndCases) instance).children = Children.shared(context);
    }
}
