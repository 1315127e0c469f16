package milter.manager.e2e;

import java.util.List;

/** The end-to-end cases with Sendmail in front of milter manager. */
class SendmailManagerIT extends EndToEndCases {
    @Override
    MailSystem open(Chain chain, Children children) throws Exception {
        return SendmailSystem.viaManager(chain, children);
    }

    /**
     * As for Postfix, the appended X-Libmilter travels as an insert at index 9 of the seven headers Sendmail showed
     * plus the two DKIM fields; Sendmail's index also counts its Received: header and the header templates of its
     * configuration that are not in this message, so the field lands right below Received:. spamass-milter is
     * skipped for local mail (Remote Network).
     */
    @Override
    List<String> expectedNormalHeaders() {
        return List.of("Authentication-Results", "DKIM-Signature", "Received", "X-Libmilter", "From", "To",
                "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type");
    }
}
