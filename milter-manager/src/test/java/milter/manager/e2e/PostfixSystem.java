package milter.manager.e2e;

import java.io.IOException;
import java.util.List;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.postfix.Mailbox;
import milter.testing.postfix.PostfixInstance;

/** A private Postfix whose smtpd talks to milter manager, or to the children directly. */
final class PostfixSystem implements MailSystem {
    private final String label;
    private final ManagerDaemon manager;
    private final PostfixInstance postfix;

    private PostfixSystem(String label, ManagerDaemon manager, PostfixInstance postfix) {
        this.label = label;
        this.manager = manager;
        this.postfix = postfix;
    }

    /** {@code smtpd_milters = inet:127.0.0.1:PORT} of the manager, {@code milter_protocol = 6}. */
    static PostfixSystem viaManager(Chain chain, Children children) throws IOException {
        ManagerDaemon manager = ManagerDaemon.start(chain.managerEggs(children));
        try {
            PostfixInstance postfix = PostfixInstance.builder()
                    .smtpdMilters("inet:127.0.0.1:" + manager.port())
                    .milterProtocol(6)
                    .milterDefaultAction("tempfail")
                    .deliveryTimeout(MailSystem.DELIVERY_TIMEOUT)
                    .start();
            return new PostfixSystem("postfix+manager", manager, postfix);
        } catch (IOException | RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    /** {@code smtpd_milters} listing every child, as Postfix chains them without a manager. */
    static PostfixSystem chaining(Chain chain, Children children) throws IOException {
        PostfixInstance postfix = PostfixInstance.builder()
                .smtpdMilters(chain.postfixMilters(children))
                .milterProtocol(6)
                .milterDefaultAction("tempfail")
                .deliveryTimeout(MailSystem.DELIVERY_TIMEOUT)
                .start();
        return new PostfixSystem("postfix chaining", null, postfix);
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public int smtpPort() {
        return postfix.smtpPort();
    }

    @Override
    public Mailbox mailbox() {
        return postfix.mailbox();
    }

    @Override
    public ManagerDaemon manager() {
        return manager;
    }

    @Override
    public List<DeliveredMessage> awaitDeliveredTo(String recipient, int count) throws IOException {
        return postfix.awaitDeliveredTo(recipient, count);
    }

    @Override
    public String diagnostics() {
        return postfix.diagnostics() + (manager == null ? "" : manager.diagnostics());
    }

    @Override
    public void close() throws IOException {
        try {
            postfix.close();
        } finally {
            if (manager != null) {
                manager.close();
            }
        }
    }
}
