package milter.manager.e2e;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.postfix.Mailbox;
import milter.testing.smtp.SmtpClient;

/** An MTA on loopback with its milters (directly or through milter manager) and the maildir it delivers to. */
interface MailSystem extends AutoCloseable {
    /** How long a delivery may take: generous, CI machines are busy. A hang guard, not an expectation. */
    Duration DELIVERY_TIMEOUT = Duration.ofMinutes(2);

    /** For result lines: {@code postfix+manager}, {@code sendmail chaining}. */
    String label();

    int smtpPort();

    Mailbox mailbox();

    /** The manager in front, or null when the MTA chains the milters itself. */
    ManagerDaemon manager();

    List<DeliveredMessage> awaitDeliveredTo(String recipient, int count) throws IOException;

    String diagnostics();

    /** An SMTP session from {@code clientAddress} (127.0.0.1 is local, 127.0.0.2 is remote for the suite). */
    default SmtpClient connect(String clientAddress) throws IOException {
        return SmtpClient.connect("127.0.0.1", smtpPort(), clientAddress, Duration.ofSeconds(120));
    }

    @Override
    void close() throws IOException;
}
