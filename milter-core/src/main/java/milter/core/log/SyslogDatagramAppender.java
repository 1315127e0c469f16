package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes lines to syslog as RFC 3164 datagrams, the form the C library's {@code syslog(3)} sends:
 * {@code <PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE}, with the host name after the time when the datagram goes
 * over the network. PRI is facility × 8 + severity (upstream's mapping, {@link LogLevel#syslogSeverity()});
 * MESSAGE is {@link TaggedLayout#message} without a time, prefixed with {@code [statistics] } for
 * statistics lines. The time is local time, as syslog expects.
 */
public class SyslogDatagramAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    /** The largest payload of a UDP datagram; longer lines are cut there. */
    static final int MAX_DATAGRAM = 65507;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ENGLISH);

    private String ident = "milter-manager";
    private SyslogFacility facility = SyslogFacility.MAIL;
    private long pid = ProcessHandle.current().pid();
    private String hostname;
    private Clock clock = Clock.systemDefaultZone();
    private SyslogSender sender;
    private final AtomicLong dropped = new AtomicLong();

    public void setIdent(String ident) {
        this.ident = ident;
    }

    public String getIdent() {
        return ident;
    }

    public void setFacility(SyslogFacility facility) {
        this.facility = facility;
    }

    public SyslogFacility getFacility() {
        return facility;
    }

    public void setPid(long pid) {
        this.pid = pid;
    }

    /** The host name written into network datagrams; the kernel's host name when not set. */
    public void setHostname(String hostname) {
        this.hostname = hostname;
    }

    /** The clock and zone of the datagram time. */
    public void setClock(Clock clock) {
        this.clock = clock;
    }

    /** Where datagrams go; closed when the appender stops. */
    public void setSender(SyslogSender sender) {
        this.sender = sender;
    }

    public SyslogSender getSender() {
        return sender;
    }

    /** How many datagrams could not be handed to the socket. */
    public long dropped() {
        return dropped.get();
    }

    @Override
    public void start() {
        if (sender == null) {
            addError("no syslog sender set for appender " + getName());
            return;
        }
        if (hostname == null && sender.wantsHostname()) {
            hostname = localHostname();
        }
        super.start();
    }

    @Override
    public void stop() {
        // Attached to two loggers, the appender is stopped twice when they let go of it.
        boolean wasStarted = isStarted();
        super.stop();
        if (wasStarted && sender != null) {
            sender.close();
        }
    }

    @Override
    protected void append(ILoggingEvent event) {
        LogLevel level = EventLevels.levelOf(event);
        String message = TaggedLayout.message(event);
        if (level == LogLevel.STATISTICS) {
            message = "[statistics] " + message;
        }
        byte[] datagram = LogBytes.encode(datagram(facility.priority(level), ZonedDateTime.now(clock),
                sender.wantsHostname() ? hostname : null, ident, pid, message));
        if (datagram.length > MAX_DATAGRAM) {
            datagram = Arrays.copyOf(datagram, MAX_DATAGRAM);
        }
        if (!sender.send(datagram)) {
            dropped.incrementAndGet();
        }
    }

    /** {@code <PRI>Mmm dd hh:mm:ss [HOSTNAME ]IDENT[PID]: MESSAGE}; {@code hostname} null leaves it out. */
    public static String datagram(int priority, ZonedDateTime time, String hostname, String ident, long pid,
            String message) {
        StringBuilder out = new StringBuilder(message.length() + ident.length() + 48);
        out.append('<').append(priority).append('>');
        TIME.formatTo(time, out);
        out.append(' ');
        if (hostname != null) {
            out.append(hostname).append(' ');
        }
        out.append(ident).append('[').append(pid).append("]: ").append(message);
        return out.toString();
    }

    private static String localHostname() {
        try {
            String name = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).trim();
            if (!name.isEmpty()) {
                return name;
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux: fall back to a name every syslog daemon accepts.
        }
        return "localhost";
    }
}
