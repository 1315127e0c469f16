package milter.core.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Syslog datagrams, received on sockets the test binds itself. */
class SyslogTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2024-03-05T07:08:09.5Z"), ZoneOffset.UTC);
    private static final int TIMEOUT_MS = 10_000;

    @TempDir
    Path dir;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private LogSetup setup;
    private DatagramSocket udp;

    @AfterEach
    void close() {
        if (setup != null) {
            setup.uninstall();
        }
        if (udp != null) {
            udp.close();
        }
    }

    private SyslogSender udpSender() throws IOException {
        udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        udp.setSoTimeout(TIMEOUT_MS);
        return new UdpSyslogSender((InetSocketAddress) udp.getLocalSocketAddress());
    }

    private String receiveUdp() throws IOException {
        DatagramPacket packet = new DatagramPacket(new byte[70_000], 70_000);
        udp.receive(packet);
        return new String(packet.getData(), 0, packet.getLength(), StandardCharsets.ISO_8859_1);
    }

    private LogSetup.Builder builder(int levels, SyslogSender sender) {
        return LogSetup.builder().levels(levels).clock(CLOCK).syslog(true).syslogSender(sender)
                .stdout(new PrintStream(stdout, true, StandardCharsets.ISO_8859_1));
    }

    private void pin(String hostname) {
        setup.syslog().setPid(4242);
        setup.syslog().setHostname(hostname);
    }

    @Test
    void udpDatagramIsRfc3164WithHostname() throws IOException {
        setup = builder(LogLevels.DEFAULT, udpSender()).install();
        pin("mx1");
        TaggedLogger.message(12, "[manager][session][start]", "");
        assertEquals("<21>Mar  5 07:08:09 mx1 milter-manager[4242]: [12] [manager][session][start]", receiveUdp());
        // The main output still gets the line, with its own time form.
        assertEquals("[2024-03-05T07:08:09.500000Z]: [12] [manager][session][start]\n",
                stdout.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void everyLevelHasUpstreamsPriority() throws IOException {
        setup = builder(LogLevels.ALL, udpSender()).syslogFacility("local3").syslogIdent("milter-test").install();
        pin("h");
        int[] severities = {2, 3, 4, 5, 6, 7, 7, 5, 7};
        for (LogLevel level : LogLevel.values()) {
            TaggedLogger.log(level, TaggedLogger.NO_SESSION, "[" + level.nick() + "]", "x");
            int priority = 19 * 8 + severities[level.ordinal()];
            String prefix = level == LogLevel.STATISTICS ? "[statistics] " : "";
            assertEquals("<" + priority + ">Mar  5 07:08:09 h milter-test[4242]: " + prefix + "[" + level.nick()
                    + "] x", receiveUdp(), level.nick());
        }
    }

    @Test
    void statisticsLinesArePrefixed() throws IOException {
        setup = builder(LogLevels.DEFAULT, udpSender()).install();
        pin("mx1");
        TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[session][end][end-of-message][pass][0.125378](12)", "");
        assertEquals("<21>Mar  5 07:08:09 mx1 milter-manager[4242]: [statistics] "
                + "[session][end][end-of-message][pass][0.125378](12)", receiveUdp());
        assertEquals("[2024-03-05T07:08:09.500000Z]: [session][end][end-of-message][pass][0.125378](12)\n",
                stdout.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void syslogHasItsOwnLevelSetWhenGiven() throws IOException {
        setup = builder(LogLevel.ERROR.bit(), udpSender()).syslogLevels(LogLevel.INFO.bit()).install();
        pin("mx1");
        TaggedLogger.error(1, "[to]", "main only");
        TaggedLogger.info(1, "[to]", "syslog only");
        assertEquals("<22>Mar  5 07:08:09 mx1 milter-manager[4242]: [1] [to] syslog only", receiveUdp());
        assertEquals("[2024-03-05T07:08:09.500000Z]: [1] [to] main only\n",
                stdout.toString(StandardCharsets.ISO_8859_1));
        assertEquals(LogLevel.ERROR.bit() | LogLevel.INFO.bit(), TaggedLogger.wantedLevels());
    }

    @Test
    void otherLoggersGoToSyslogInTheSameShape() throws IOException {
        setup = builder(LogLevels.DEFAULT, udpSender()).install();
        pin("mx1");
        LoggerFactory.getLogger("io.netty.util.ResourceLeakDetector").error("LEAK: {}", "buffer");
        assertEquals("<19>Mar  5 07:08:09 mx1 milter-manager[4242]: [error] io.netty.util.ResourceLeakDetector:"
                + " LEAK: buffer", receiveUdp());
    }

    @Test
    void datagramKeepsWireBytes() throws IOException {
        setup = builder(LogLevels.DEFAULT, udpSender()).install();
        pin("mx1");
        TaggedLogger.warning(3, "[h]", "<\u00e3\u0081\u0082>");
        assertEquals("<20>Mar  5 07:08:09 mx1 milter-manager[4242]: [3] [h] <\u00e3\u0081\u0082>", receiveUdp());
    }

    @Test
    void unixDatagramHasNoHostname() throws Exception {
        if (!Epoll.isAvailable()) {
            Assumptions.assumeFalse("true".equals(System.getenv("CI")), "epoll must load on CI");
            Assumptions.abort("native epoll unavailable: " + Epoll.unavailabilityCause());
        }
        Path socket = dir.resolve("log.sock");
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            Channel server = bindUnix(group, socket, received);
            try {
                UnixDatagramSyslogSender sender = new UnixDatagramSyslogSender(socket);
                assertEquals(socket, sender.target());
                setup = builder(LogLevels.DEFAULT, sender).syslogFacility("daemon").install();
                setup.syslog().setPid(99);
                TaggedLogger.error(7, "[children][error][connection]", "[8] refused: clamav-milter");
                TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[sessions][finished] 29(+2) 3", "");
                assertEquals("<27>Mar  5 07:08:09 milter-manager[99]: [7] [children][error][connection] [8] refused:"
                        + " clamav-milter", received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                assertEquals("<29>Mar  5 07:08:09 milter-manager[99]: [statistics] [sessions][finished] 29(+2) 3",
                        received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS));
            } finally {
                server.close().sync();
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void unixSenderSurvivesAnAbsentDaemonAndReachesItOnceItListens() throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable() || "true".equals(System.getenv("CI")));
        Path socket = dir.resolve("late.sock");
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        UnixDatagramSyslogSender sender = new UnixDatagramSyslogSender(socket);
        try {
            // Nobody listens yet: the send error stays inside the sender instead of reaching the caller.
            assertTrue(sender.send("<13>lost".getBytes(StandardCharsets.US_ASCII)));
            sender.awaitHandedOver();
            Channel server = bindUnix(group, socket, received);
            try {
                assertTrue(sender.send("<13>found".getBytes(StandardCharsets.US_ASCII)));
                assertEquals("<13>found", received.poll(TIMEOUT_MS, TimeUnit.MILLISECONDS));
            } finally {
                server.close().sync();
            }
        } finally {
            sender.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        assertFalse(sender.send("<13>y".getBytes(StandardCharsets.US_ASCII)), "closed sender drops");
    }

    private static Channel bindUnix(EventLoopGroup group, Path socket, BlockingQueue<String> received)
            throws InterruptedException {
        return new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket packet) {
                        received.add(new String(ByteBufUtil.getBytes(packet.content()), StandardCharsets.ISO_8859_1));
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).sync().channel();
    }

    @Test
    void facilitiesHaveTheirSyslogNumbers() {
        String[] names = {"kern", "user", "mail", "daemon", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
            "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
        int[] codes = {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23};
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            assertEquals(codes[i], SyslogFacility.parse(names[i]).code(), names[i]);
            assertEquals(names[i], SyslogFacility.parse(names[i].toUpperCase()).nick());
            seen.add(names[i]);
        }
        assertEquals(SyslogFacility.values().length, seen.size());
        assertEquals(SyslogFacility.AUTHPRIV, SyslogFacility.parse("auth"));
        assertEquals(SyslogFacility.MAIL, SyslogFacility.parse("postfix"));
        assertEquals(SyslogFacility.MAIL, SyslogFacility.parse(null));
        assertEquals(2 * 8 + 2, SyslogFacility.MAIL.priority(LogLevel.CRITICAL));
        assertEquals(23 * 8 + 7, SyslogFacility.LOCAL7.priority(LogLevel.PROFILE));
    }

    @Test
    void datagramFormatPadsTheDayWithASpace() {
        ZonedDateTime time = ZonedDateTime.of(2024, 12, 25, 1, 2, 3, 0, ZoneOffset.ofHours(9));
        assertEquals("<22>Dec 25 01:02:03 milter-manager[1]: m",
                SyslogDatagramAppender.datagram(22, time, null, "milter-manager", 1, "m"));
        assertEquals("<13>Jan  1 00:00:00 host x[2]: y", SyslogDatagramAppender.datagram(13,
                ZonedDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), "host", "x", 2, "y"));
    }

    @Test
    void overlongLinesAreCutToOneDatagram() throws IOException {
        setup = builder(LogLevels.DEFAULT, udpSender()).install();
        pin("mx1");
        TaggedLogger.error(1, "[big]", "x".repeat(100_000));
        String datagram = receiveUdp();
        assertEquals(SyslogDatagramAppender.MAX_DATAGRAM, datagram.length());
        assertTrue(datagram.startsWith("<19>Mar  5 07:08:09 mx1 milter-manager[4242]: [1] [big] xxx"));
        assertEquals(0, setup.syslog().dropped());
    }

    @Test
    void defaultSenderIsDevLogOrUdpLocalhost() {
        SyslogSender sender = LogSetup.defaultSyslogSender();
        try {
            assertNotNull(sender);
            if (sender instanceof UdpSyslogSender) {
                assertEquals(LogSetup.SYSLOG_UDP, ((UdpSyslogSender) sender).target());
                assertTrue(sender.wantsHostname());
            } else {
                assertEquals(LogSetup.DEV_LOG, ((UnixDatagramSyslogSender) sender).target());
                assertFalse(sender.wantsHostname());
            }
        } finally {
            sender.close();
        }
    }

    @Test
    void syslogOffMeansNoSyslogAppender() {
        setup = LogSetup.builder().stdout(new PrintStream(stdout, true, StandardCharsets.ISO_8859_1)).install();
        assertNull(setup.syslog());
    }
}
