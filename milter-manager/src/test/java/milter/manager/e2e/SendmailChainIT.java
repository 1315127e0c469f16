package milter.manager.e2e;

import java.util.List;

/** The end-to-end cases with Sendmail chaining the children itself. */
class SendmailChainIT extends EndToEndCases {
    @Override
    MailSystem open(Chain chain, Children children) throws Exception {
        return SendmailSystem.chaining(chain, children);
    }

    /** Every milter's fields as Sendmail applies them: inserts at index 0 on top, additions appended in order. */
    @Override
    List<String> expectedNormalHeaders() {
        return List.of("Authentication-Results", "DKIM-Signature", "Received", "From", "To", "Subject", "Date",
                "Message-ID", "MIME-Version", "Content-Type", "X-Spam-Status", "X-Spam-Checker-Version", "X-Libmilter");
    }
}
