package milter.manager.condition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StressBreakerTest {
    @Test
    void stressedAtTheThreshold() {
        StressBreaker breaker = new StressBreaker(() -> {
            throw new AssertionError("a set threshold is never detected");
        });
        breaker.setThresholdNConnections(10);
        assertFalse(breaker.stressing(9));
        assertTrue(breaker.stressing(10));
        assertTrue(breaker.stressing(11));
        breaker.setThresholdNConnections(0);
        assertFalse(breaker.stressing(0));
        assertFalse(breaker.stressing(100));
    }

    @Test
    void detectionFromAStopperRunsInTheBackground() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        StressBreaker breaker = new StressBreaker(() -> {
            runs.incrementAndGet();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 4;
        });
        assertFalse(breaker.stressing(100), "not stressed while the threshold is being detected");
        assertFalse(breaker.stressing(100));
        release.countDown();
        assertEquals(4, breaker.thresholdNConnections());
        assertTrue(breaker.stressing(4));
        assertEquals(1, runs.get(), "one detection at a time");
    }

    @Test
    void postfixThresholdFromMasterCf(@TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("master.cf"), String.join("\n",
                "# service type  private unpriv  chroot  wakeup  maxproc command + args",
                "smtp      unix  -       -       y       -       -       smtp",
                "smtp      inet  n       -       y       -       40      smtpd",
                "  -o smtpd_sasl_auth_enable=yes",
                ""));
        List<String> commands = new java.util.ArrayList<>();
        PostfixThresholdDetector detector = new PostfixThresholdDetector(
                () -> List.of("/sbin/init", "/usr/lib/postfix/sbin/master -w"),
                command -> {
                    commands.add(command);
                    return "config_directory = " + directory + "\ndefault_process_limit = 100\n";
                });
        assertEquals(30, detector.detect(), "0.75 * maxproc 40");
        assertEquals(1, commands.size());
    }

    @Test
    void postfixThresholdFromDefaultProcessLimit(@TempDir Path directory) throws IOException {
        Files.writeString(directory.resolve("master.cf"),
                "smtp      inet  n       -       y       -       -       smtpd\n");
        PostfixThresholdDetector detector = new PostfixThresholdDetector(
                () -> List.of("/usr/libexec/postfix/master"),
                command -> "default_process_limit = 100\nconfig_directory = " + directory + "\n");
        assertEquals(75, detector.detect());
    }

    @Test
    void noMtaOrFailingPostconfMeansNeverStressed() {
        assertEquals(0, new PostfixThresholdDetector(() -> List.of("/sbin/init", "sshd"), command -> "").detect());
        assertEquals(0, new PostfixThresholdDetector(() -> List.of("sendmail: server accepting"), command -> "")
                .detect());
        assertEquals(0, new PostfixThresholdDetector(() -> List.of("/usr/lib/postfix/sbin/master"), command -> null)
                .detect());
    }
}
