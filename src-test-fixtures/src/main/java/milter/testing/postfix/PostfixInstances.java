package milter.testing.postfix;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts Postfix instances for one test and stops them all after it, whatever the outcome; when the test failed
 * it first prints each instance's diagnostics (configuration warnings and maillog) to stderr. Register it as an
 * instance field:
 *
 * <pre>{@code
 * @RegisterExtension
 * final PostfixInstances postfix = new PostfixInstances();
 *
 * @Test
 * void delivers() throws Exception {
 *     PostfixInstance mta = postfix.start(PostfixInstance.builder().smtpdMilters("inet:127.0.0.1:" + port));
 *     ...
 * }
 * }</pre>
 */
public final class PostfixInstances implements AfterEachCallback {
    private final List<PostfixInstance> started = new ArrayList<>();

    /** Starts an instance that is closed after the current test. */
    public PostfixInstance start(PostfixInstance.Builder builder) throws IOException {
        PostfixInstance instance = builder.start();
        started.add(instance);
        return instance;
    }

    /** Starts an instance with the defaults (no milters). */
    public PostfixInstance start() throws IOException {
        return start(PostfixInstance.builder());
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        if (context.getExecutionException().isPresent()) {
            for (PostfixInstance instance : started) {
                System.err.println(instance.diagnostics());
            }
        }
        Exception failure = null;
        for (PostfixInstance instance : started) {
            try {
                instance.close();
            } catch (IOException | RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        started.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
