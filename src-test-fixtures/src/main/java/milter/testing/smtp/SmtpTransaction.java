package milter.testing.smtp;

import java.util.List;

/**
 * The replies of one mail transaction sent by {@link SmtpClient#send}: MAIL, one per RCPT in the order given,
 * and DATA's final reply (or the refusal of DATA itself), null when DATA was not sent.
 */
public record SmtpTransaction(SmtpReply mail, List<SmtpReply> recipients, SmtpReply data) {

    public SmtpTransaction {
        recipients = List.copyOf(recipients);
    }

    /** Whether the message was accepted for delivery (DATA answered 2xx). */
    public boolean accepted() {
        return data != null && data.isPositive();
    }
}
