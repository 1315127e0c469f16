package milter.manager.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import milter.core.log.LogLevels;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Macros;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.manager.Children;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.message.Header;
import milter.manager.message.HeaderList;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One whole SMTP session through the engine ({@link Children}: fan-out, merging of the answers per stage, the
 * sequential message pipeline with replay to the second child, the header diff) with in-memory children that
 * answer at once, so that only the engine's own work is measured. The message has {@code recipients} recipients,
 * {@code headers} headers and one 4 KiB body chunk; at end of message the first child adds two headers and
 * changes the subject, the second deletes a header. Logging is at upstream's default level (statistics lines are
 * built and dropped by the test logger configuration).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ChildrenSessionBenchmark {
    private static final Option OFFER = new Option(6, ActionFlags.ALL, ProtocolFlags.ALL & ~ProtocolFlags.INTERNAL_MASK
            & ~ProtocolFlags.NO_EVENT_MASK & ~ProtocolFlags.NO_REPLY_MASK);

    @Param({"2"})
    public int children;

    @Param({"1", "50"})
    public int recipients;

    @Param({"10", "100"})
    public int headers;

    private EmbeddedChannel channel;
    private Configuration configuration;
    private MemoryChildren connector;
    private List<Command.Header> headerCommands;
    private List<Command.EnvelopeRecipient> recipientCommands;
    private ByteBuf body;
    private long tag;

    @Setup(Level.Trial)
    public void setUp() {
        TaggedLogger.setLevels(LogLevels.DEFAULT);
        channel = new EmbeddedChannel();
        Configuration.Builder builder = Configuration.builder();
        Map<String, List<Reply>> modifications = new LinkedHashMap<>();
        for (int i = 1; i <= children; i++) {
            String name = "child" + i;
            builder.egg(Egg.builder(name).connectionSpec(ConnectionSpec.parse("inet:" + (10000 + i) + "@[127.0.0.1]"))
                    .build());
            modifications.put(name, i == 1
                    ? List.of(new Reply.AddHeader("X-Spam-Status", "No, score=-0.1"),
                            new Reply.AddHeader("X-Spam-Score", "-0.1"),
                            new Reply.ChangeHeader(1, "Subject", "[checked] a message"))
                    : List.of(new Reply.ChangeHeader(1, "X-Mailer", "")));
        }
        configuration = builder.build();
        connector = new MemoryChildren(modifications);
        HeaderList message = HeaderDiffBenchmark.message(headers);
        headerCommands = new ArrayList<>();
        for (Header header : message.list()) {
            headerCommands.add(new Command.Header(header.name(), header.value()));
        }
        recipientCommands = new ArrayList<>();
        for (int i = 0; i < recipients; i++) {
            recipientCommands.add(new Command.EnvelopeRecipient("<user" + i + "@example.org>"));
        }
        byte[] text = "The quick brown fox jumps over the lazy dog.\n".repeat(100).getBytes(StandardCharsets.US_ASCII);
        body = Unpooled.unreleasableBuffer(Unpooled.directBuffer(4096).writeBytes(text, 0, 4096));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
        body.unwrap().release();
    }

    @Benchmark
    public int session() {
        Macros macros = new Macros();
        Children session = new Children(++tag, configuration, connector, channel.eventLoop(), macros, () -> 1);
        join(session.negotiate(OFFER));
        macros.define(CommandType.CONNECT, Map.of("j", "mx.example.org", "{daemon_name}", "smtpd",
                "{if_addr}", "192.0.2.25"));
        join(session.connect(new Command.Connect("client.example.com", SocketFamily.INET, 50000, "192.0.2.7")));
        join(session.helo(new Command.Helo("client.example.com")));
        macros.define(CommandType.ENVELOPE_FROM, Map.of("{mail_addr}", "sender@example.com", "i", "4ABC123"));
        join(session.envelopeFrom(new Command.EnvelopeFrom("<sender@example.com>")));
        for (Command.EnvelopeRecipient recipient : recipientCommands) {
            macros.define(CommandType.ENVELOPE_RECIPIENT, Map.of("{rcpt_addr}", recipient.address()));
            join(session.envelopeRecipient(recipient));
        }
        join(session.data());
        for (Command.Header header : headerCommands) {
            join(session.header(header));
        }
        join(session.endOfHeader());
        join(session.body(new Command.Body(body.duplicate())));
        int[] packets = new int[1];
        join(session.endOfMessage(new Command.EndOfMessage(Unpooled.EMPTY_BUFFER), reply -> {
            packets[0]++;
            ReferenceCountUtil.release(reply);
            return true;
        }));
        session.quit();
        return packets[0];
    }

    /** Runs the loop's pending tasks (the pipeline hands answers that were already there to the loop). */
    private <T> T join(CompletionStage<T> stage) {
        CompletableFuture<T> future = stage.toCompletableFuture();
        while (!future.isDone()) {
            channel.runPendingTasks();
        }
        return future.join();
    }
}
