package milter.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import milter.core.log.LogLevels;
import milter.core.log.LogSetup;
import milter.core.log.SyslogSender;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/**
 * An MTA that puts CR, LF, ESC and other control bytes into what it sends (a HELO name, a client host name, a
 * macro value, a recipient) cannot forge a log line: over a real socket, with every level on, each event is
 * written as exactly one line to the log output and as one syslog datagram without a line break, and the text
 * of the forged line only ever appears escaped, inside the line of the event that carried it.
 */
class LogInjectionTest {
    private static final String FORGED = "[client][listen][start] <inet:25@[0.0.0.0]> forged";
    /** A tagged line: optional session, then tags. */
    private static final Pattern TAGGED_LINE = Pattern.compile("^(\\[\\d+\\] )?\\[[a-z0-9_+-]+\\].*");

    @Test
    void controlCharactersFromTheWireCannotForgeALogLine() throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        CapturingSyslog syslog = new CapturingSyslog();
        LogSetup setup = LogSetup.builder().levels(LogLevels.ALL).timestamp(false)
                .stdout(new PrintStream(output, true, StandardCharsets.ISO_8859_1))
                .syslog(true).syslogSender(syslog).install();
        try (ClientHarness harness = new ClientHarness(context -> new Milter() { });
                FakeMta mta = harness.connect()) {
            mta.negotiate(Option.offer(6));
            mta.send(new Command.DefineMacro(CommandType.CONNECT, Map.of("j", "mx\n" + FORGED)));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Connect("host\r\n" + FORGED,
                    SocketFamily.INET, 25, "192.0.2.1")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.Helo("helo\r\n" + FORGED + "\u001b[2J\u0007")));
            assertInstanceOf(Reply.Continue.class, mta.call(new Command.EnvelopeFrom("<a@example.org>\n" + FORGED,
                    List.of())));
            // The replies arrived after the commands were logged: everything to check is written by now.
        } finally {
            setup.uninstall();
        }

        String text = output.toString(StandardCharsets.ISO_8859_1);
        assertTrue(text.endsWith("\n"), text);
        List<String> lines = List.of(text.substring(0, text.length() - 1).split("\n", -1));
        int carrying = 0;
        for (String line : lines) {
            assertTrue(TAGGED_LINE.matcher(line).matches(), () -> "not a tagged line: " + line);
            assertFalse(line.startsWith(FORGED), line);
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                assertTrue(c >= 0x20 && c != 0x7F, "control character " + (int) c + " in " + line);
            }
            if (line.contains(FORGED)) {
                carrying++;
            }
        }
        // Four events carried the forged text (macro, connect, helo, envelope-from), each on its own line.
        int carried = carrying;
        assertTrue(carried >= 4, () -> carried + " lines carry the text:\n" + text);
        assertTrue(text.contains("helo\\r\\n" + FORGED + "\\x1B[2J\\x07"), text);
        assertTrue(text.contains("host\\r\\n" + FORGED), text);

        List<byte[]> datagrams = syslog.datagrams();
        assertEquals(lines.size(), datagrams.size(), "one datagram per line");
        for (byte[] datagram : datagrams) {
            for (byte b : datagram) {
                assertTrue(b != '\n' && b != '\r' && b != 0x1B,
                        () -> "line break in datagram " + new String(datagram, StandardCharsets.ISO_8859_1));
            }
        }
    }

    /** Keeps the datagrams instead of sending them. */
    private static final class CapturingSyslog implements SyslogSender {
        private final List<byte[]> datagrams = new ArrayList<>();

        @Override
        public synchronized boolean send(byte[] datagram) {
            datagrams.add(datagram.clone());
            return true;
        }

        @Override
        public boolean wantsHostname() {
            return false;
        }

        @Override
        public void close() {
        }

        synchronized List<byte[]> datagrams() {
            return List.copyOf(datagrams);
        }
    }
}
