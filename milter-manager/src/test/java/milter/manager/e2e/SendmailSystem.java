package milter.manager.e2e;

import java.io.IOException;
import java.util.List;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.postfix.Mailbox;
import milter.testing.sendmail.SendmailInstance;

/** A private Sendmail whose INPUT_MAIL_FILTER is milter manager, or one filter per child. */
final class SendmailSystem implements MailSystem {
    /** Sendmail's milter timeouts for milter manager and ordinary children. */
    static final String TIMEOUTS = "C:10s;S:30s;R:30s;E:120s";

    private final String label;
    private final ManagerDaemon manager;
    private final SendmailInstance sendmail;

    private SendmailSystem(String label, ManagerDaemon manager, SendmailInstance sendmail) {
        this.label = label;
        this.manager = manager;
        this.sendmail = sendmail;
    }

    /** {@code INPUT_MAIL_FILTER(`milter-manager', `S=inet:PORT@127.0.0.1, F=T, T=...')}. */
    static SendmailSystem viaManager(Chain chain, Children children) throws IOException, InterruptedException {
        ManagerDaemon manager = ManagerDaemon.start(chain.managerEggs(children));
        try {
            SendmailInstance sendmail = SendmailInstance.builder()
                    .milter("milter-manager", "inet:" + manager.port() + "@127.0.0.1", "T", TIMEOUTS)
                    .deliveryTimeout(MailSystem.DELIVERY_TIMEOUT)
                    .start();
            return new SendmailSystem("sendmail+manager", manager, sendmail);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            manager.close();
            throw e;
        }
    }

    /** One INPUT_MAIL_FILTER per child, in chain order. */
    static SendmailSystem chaining(Chain chain, Children children) throws IOException, InterruptedException {
        SendmailInstance.Builder builder = SendmailInstance.builder().deliveryTimeout(MailSystem.DELIVERY_TIMEOUT);
        for (Chain.Member member : chain.members(children)) {
            // Sendmail waits for each reply packet up to R, and for the whole end of message up to E.
            String hang = Chain.HANG_TIMEOUT_SECONDS + "s";
            String timeouts = member.hangs() ? "C:10s;S:30s;R:" + hang + ";E:" + hang : TIMEOUTS;
            builder.milter(member.address().name(), member.address().libmilterSpec(),
                    member.failureAccepted() ? "" : "T", timeouts);
        }
        return new SendmailSystem("sendmail chaining", null, builder.start());
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public int smtpPort() {
        return sendmail.smtpPort();
    }

    @Override
    public Mailbox mailbox() {
        return sendmail.mailbox();
    }

    @Override
    public ManagerDaemon manager() {
        return manager;
    }

    @Override
    public List<DeliveredMessage> awaitDeliveredTo(String recipient, int count) throws IOException {
        return sendmail.awaitDeliveredTo(recipient, count);
    }

    @Override
    public String diagnostics() {
        return sendmail.diagnostics() + (manager == null ? "" : manager.diagnostics());
    }

    @Override
    public void close() throws IOException {
        try {
            sendmail.close();
        } finally {
            if (manager != null) {
                manager.close();
            }
        }
    }
}
