package milter.client.postfix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.MilterClient;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.postfix.PostfixInstance;
import milter.testing.postfix.PostfixInstances;
import milter.testing.smtp.SmtpClient;
import milter.testing.smtp.SmtpTransaction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Our milter side behind a real, private Postfix on loopback: what Postfix delivers and answers. */
class PostfixInteropTest {
    @RegisterExtension
    final PostfixInstances postfix = new PostfixInstances();

    /** Rejects one recipient with a reply code and adds a header at end of message. */
    private static final class HeaderAndRejectMilter implements Milter {
        private final List<String> seen;

        HeaderAndRejectMilter(List<String> seen) {
            this.seen = seen;
        }

        @Override
        public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient rcpt) {
            seen.add("rcpt " + rcpt.address());
            if (rcpt.address().contains("blocked@")) {
                return Milter.reply(Reply.ReplyCode.of(550, "5.7.1", "No thanks"));
            }
            return Milter.continueReply();
        }

        @Override
        public CompletionStage<Reply> header(ClientContext context, Command.Header header) {
            seen.add("header " + header.name());
            return Milter.continueReply();
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage eom) {
            context.send(new Reply.AddHeader("X-Milter", "passed through our milter"));
            return Milter.continueReply();
        }
    }

    @Test
    void postfixAppliesOurHeaderAndOurRecipientRejection() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        try (MilterClient client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"),
                context -> new HeaderAndRejectMilter(seen)).threads(1).build()) {
            InetSocketAddress bound = (InetSocketAddress) client.start().toCompletableFuture().join();
            PostfixInstance mta = postfix.start(PostfixInstance.builder()
                    .smtpdMilters("inet:127.0.0.1:" + bound.getPort()).milterDefaultAction("tempfail"));
            byte[] message = ("From: sender@example.org\r\nTo: alice@example.com\r\nSubject: interop\r\n\r\n"
                    + "Hello through the milter.\r\n").getBytes(StandardCharsets.ISO_8859_1);
            SmtpTransaction transaction;
            try (SmtpClient smtp = mta.openSmtp()) {
                smtp.ehlo("client.example.org");
                transaction = smtp.send("sender@example.org", List.of("alice@example.com", "blocked@example.com"),
                        message);
                smtp.quit();
            }
            assertEquals(250, transaction.recipients().get(0).code(), transaction.toString());
            assertEquals("550 5.7.1 No thanks", transaction.recipients().get(1).toString());
            assertTrue(transaction.data().isPositive(), transaction.toString());

            DeliveredMessage delivered = mta.awaitDeliveredTo("alice@example.com", 1).get(0);
            assertEquals("passed through our milter", delivered.header("X-Milter"));
            assertEquals("interop", delivered.header("Subject"));
            assertEquals("Hello through the milter.\r\n", new String(delivered.body(), StandardCharsets.ISO_8859_1));
            assertTrue(seen.contains("rcpt <blocked@example.com>"), seen.toString());
            assertTrue(seen.contains("header Subject"), seen.toString());
        }
    }
}
