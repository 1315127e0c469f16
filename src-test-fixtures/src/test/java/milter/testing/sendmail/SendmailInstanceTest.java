package milter.testing.sendmail;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import milter.testing.libmilter.PythonMilter;
import milter.testing.postfix.DeliveredMessage;
import milter.testing.process.LoopbackPorts;
import milter.testing.smtp.SmtpClient;
import milter.testing.smtp.SmtpTransaction;
import org.junit.jupiter.api.Test;

class SendmailInstanceTest {
    private static final byte[] MESSAGE = ("From: <sender@example.org>\r\n"
            + "To: <alice@example.com>\r\n"
            + "Subject: hello\r\n"
            + "\r\n"
            + "first line\r\n"
            + ".a line that starts with a dot\r\n"
            + "\r\n"
            + "last line\r\n").getBytes(StandardCharsets.ISO_8859_1);

    @Test
    void deliversToTheMaildirAndLeavesNothingBehind() throws Exception {
        SendmailInstance sendmail = SendmailInstance.builder().start();
        Path base = sendmail.baseDirectory();
        int port = sendmail.smtpPort();
        try {
            assertTrue(LoopbackPorts.isListening(port));
            try (SmtpClient smtp = sendmail.openSmtp()) {
                assertEquals(220, smtp.greeting().code(), smtp.greeting().toString());
                assertTrue(smtp.greeting().text().contains(SendmailInstance.HOST_NAME), smtp.greeting().text());
                smtp.ehlo("client.example.org");
                SmtpTransaction sent = smtp.send("sender@example.org", List.of("alice@example.com"), MESSAGE);
                assertEquals(250, sent.data().code(), sent.toString());
                smtp.quit();
            }
            DeliveredMessage delivered = sendmail.awaitDeliveredTo("alice@example.com", 1).get(0);
            assertEquals("alice@example.com", delivered.deliveredTo());
            assertTrue(delivered.header("Received").contains("by " + SendmailInstance.HOST_NAME),
                    delivered.header("Received"));
            byte[] body = ("first line\r\n.a line that starts with a dot\r\n\r\nlast line\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(body, delivered.body(), delivered.bodyText());
        } finally {
            sendmail.close();
        }
        assertFalse(Files.exists(base), base + " left behind");
        assertFalse(LoopbackPorts.isListening(port), "port " + port + " still listening");
    }

    @Test
    void passesTheSessionToItsMilter() throws Exception {
        PythonMilter.assumeAvailable();
        try (PythonMilter milter = PythonMilter.builder().inet().name("sendmail-test")
                .replyToRecipient("refused@example.com", "reply", "550", "5.7.1", "Not this one")
                .eom("addheader", "X-Sendmail-Test", "yes").start()) {
            String spec = milter.specText();
            try (SendmailInstance sendmail = SendmailInstance.builder()
                    .milter("test", spec, "T", "C:10s;S:30s;R:30s;E:60s").start()) {
                assertTrue(sendmail.mc().contains("INPUT_MAIL_FILTER(`test', `S=" + spec + ", F=T,"),
                        sendmail.mc());
                SmtpTransaction sent;
                try (SmtpClient smtp = sendmail.openSmtp()) {
                    smtp.ehlo("client.example.org");
                    sent = smtp.send("sender@example.org", List.of("alice@example.com", "refused@example.com"),
                            MESSAGE);
                }
                assertEquals("550 5.7.1 <refused@example.com>... Not this one", sent.recipients().get(1).toString());
                assertEquals(250, sent.data().code(), sent.toString());
                DeliveredMessage delivered = sendmail.awaitDeliveredTo("alice@example.com", 1).get(0);
                assertEquals("yes", delivered.header("X-Sendmail-Test"), sendmail.diagnostics());
                milter.awaitLine("EVENT eom", Duration.ofSeconds(30));
            }
        }
    }
}
