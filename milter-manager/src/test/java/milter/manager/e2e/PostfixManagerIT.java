package milter.manager.e2e;

import java.util.List;

/** The end-to-end cases with Postfix in front of milter manager. */
class PostfixManagerIT extends EndToEndCases {
    @Override
    MailSystem open(Chain chain, Children children) throws Exception {
        return PostfixSystem.viaManager(chain, children);
    }

    /**
     * opendkim inserts at index 0, so the verifier's Authentication-Results ends up above the signature, as with
     * Postfix's own chaining. The libmilter child's appended X-Libmilter is emitted, like upstream does, as an
     * insert at its index in the header list the manager knows; Postfix counts its own Received: header, which it
     * never shows to milters, so the field lands one place early, above Content-Type. spamass-milter is skipped
     * for local mail (Remote Network).
     */
    @Override
    List<String> expectedNormalHeaders() {
        return List.of("Authentication-Results", "DKIM-Signature", "Received", "From", "To", "Subject", "Date",
                "Message-ID", "MIME-Version", "X-Libmilter", "Content-Type");
    }
}
