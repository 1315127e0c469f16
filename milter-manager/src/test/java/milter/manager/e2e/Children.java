package milter.manager.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import milter.testing.filters.DkimKey;
import milter.testing.filters.MilterAddress;
import milter.testing.filters.OpenDkim;
import milter.testing.filters.Rspamd;
import milter.testing.filters.SpamAssassin;
import milter.testing.libmilter.PythonMilter;
import milter.testing.process.Directories;
import milter.testing.process.LoopbackPorts;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real milters of the suite, started once for the whole test run and stopped when it ends (JUnit's root
 * store closes them): opendkim signing and verifying with a key made for this run, spamass-milter with spamd,
 * rspamd's milter proxy, a libmilter milter that refuses one recipient and adds a header, one that hangs at end
 * of message, and the address of one that is down.
 */
@SuppressWarnings("deprecation")
final class Children implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    static final String DKIM_DOMAIN = "example.org";
    static final String DKIM_SELECTOR = "e2e";
    static final String REFUSED_RECIPIENT = "refused@example.com";
    static final String REFUSAL_TEXT = "Recipient refused by policy";
    static final String LIBMILTER_HEADER = "X-Libmilter";

    private final List<AutoCloseable> started = new ArrayList<>();
    private Path keyDirectory;
    DkimKey key;
    OpenDkim signer;
    OpenDkim verifier;
    SpamAssassin spamAssassin;
    Rspamd rspamd;
    PythonMilter libmilter;
    PythonMilter hanging;
    MilterAddress dead;

    /** The run's children, started by the first test class that asks. */
    static Children shared(ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(ExtensionContext.Namespace.create(Children.class));
        return store.getOrComputeIfAbsent(Children.class, type -> {
            try {
                return start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }, Children.class);
    }

    /** Fails under CI, skips elsewhere, when one of the real components is missing. */
    static void requireAvailable() {
        OpenDkim.requireAvailable();
        SpamAssassin.requireAvailable();
        Rspamd.requireAvailable();
        PythonMilter.assumeAvailable();
    }

    private static Children start() throws IOException, InterruptedException {
        requireAvailable();
        Children children = new Children();
        try {
            children.keyDirectory = Directories.createBase("dkim-key");
            children.key = DkimKey.generate(children.keyDirectory, DKIM_DOMAIN, DKIM_SELECTOR);
            children.signer = children.keep(OpenDkim.signer("opendkim-sign", children.key));
            children.verifier = children.keep(OpenDkim.verifier("opendkim-verify", children.key));
            children.spamAssassin = children.keep(SpamAssassin.start("spamass-milter"));
            children.rspamd = children.keep(Rspamd.start("rspamd"));
            children.libmilter = children.keep(PythonMilter.builder().inet().name("libmilter")
                    .replyToRecipient(REFUSED_RECIPIENT, "reply", "550", "5.7.1", REFUSAL_TEXT)
                    .eom("addheader", LIBMILTER_HEADER, "seen").start());
            children.hanging = children.keep(PythonMilter.builder().inet().name("hanging")
                    .eom("sleep", "3600").start());
            // Nothing listens there: the port was free a moment ago and no one is told about it.
            children.dead = new MilterAddress("dead", LoopbackPorts.free());
            return children;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            children.close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T keep(T child) {
        started.add(child);
        return child;
    }

    static MilterAddress address(PythonMilter milter, String name) {
        String spec = milter.specText();
        int port = Integer.parseInt(spec.substring("inet:".length(), spec.indexOf('@')));
        return new MilterAddress(name, port);
    }

    MilterAddress libmilterAddress() {
        return address(libmilter, "libmilter");
    }

    MilterAddress hangingAddress() {
        return address(hanging, "hanging");
    }

    String diagnostics() {
        StringBuilder out = new StringBuilder();
        for (AutoCloseable child : started) {
            if (child instanceof milter.testing.filters.RealMilter real) {
                out.append(real.diagnostics());
            } else if (child instanceof PythonMilter python) {
                String text = python.diagnostics();
                out.append(text.length() > 4000 ? "..." + text.substring(text.length() - 4000) : text).append('\n');
            }
        }
        return out.toString();
    }

    @Override
    public void close() {
        List<Exception> failures = new ArrayList<>();
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                failures.add(e);
            }
        }
        started.clear();
        try {
            Directories.deleteRecursively(keyDirectory);
        } catch (IOException e) {
            failures.add(e);
        }
        if (!failures.isEmpty()) {
            IllegalStateException failure = new IllegalStateException("stopping the children failed");
            failures.forEach(failure::addSuppressed);
            throw failure;
        }
    }
}
