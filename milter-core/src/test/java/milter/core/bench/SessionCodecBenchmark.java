package milter.core.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.codec.CommandDecoder;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyDecoder;
import milter.core.codec.ReplyEncoder;
import milter.core.protocol.ByteBufMessage;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One whole session per operation (28 packets one way, 6 of them macros; 24 replies the other way), through the
 * real handlers in a channel pipeline with the pooled allocator; the {@code Direct} variants call the static
 * encoders without a pipeline, to tell the codec's own cost from the pipeline's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SessionCodecBenchmark {
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf body;
    private List<Command> commands;
    private List<Reply> replies;
    private ByteBuf commandBytes;
    private ByteBuf replyBytes;
    private EmbeddedChannel commandDecoder;
    private EmbeddedChannel commandEncoder;
    private EmbeddedChannel replyDecoder;
    private EmbeddedChannel replyEncoder;

    @Setup(Level.Trial)
    public void setUp() {
        body = SessionTraffic.body(alloc);
        commands = SessionTraffic.commands(body);
        replies = SessionTraffic.replies();
        commandBytes = SessionTraffic.encodeCommands(alloc, commands);
        replyBytes = SessionTraffic.encodeReplies(alloc, replies);
        commandDecoder = channel(new CommandDecoder());
        commandEncoder = channel(CommandEncoder.INSTANCE);
        replyDecoder = channel(new ReplyDecoder());
        replyEncoder = channel(ReplyEncoder.INSTANCE);
    }

    private EmbeddedChannel channel(io.netty.channel.ChannelHandler handler) {
        EmbeddedChannel channel = new EmbeddedChannel(handler);
        channel.config().setAllocator(alloc);
        return channel;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (EmbeddedChannel channel : List.of(commandDecoder, commandEncoder, replyDecoder, replyEncoder)) {
            channel.finishAndReleaseAll();
        }
        commandBytes.release();
        replyBytes.release();
        body.release();
    }

    /** The milter side reading a session's commands. */
    @Benchmark
    public void decodeCommands(Blackhole blackhole) {
        commandDecoder.writeInbound(commandBytes.retainedDuplicate());
        drainInbound(commandDecoder, blackhole);
    }

    /** The MTA side writing a session's commands. */
    @Benchmark
    public void encodeCommands(Blackhole blackhole) {
        for (Command command : commands) {
            commandEncoder.writeOutbound(command instanceof ByteBufMessage chunk ? chunk.retainedDuplicate() : command);
        }
        drainOutbound(commandEncoder, blackhole);
    }

    /** The MTA side reading a session's replies. */
    @Benchmark
    public void decodeReplies(Blackhole blackhole) {
        replyDecoder.writeInbound(replyBytes.retainedDuplicate());
        drainInbound(replyDecoder, blackhole);
    }

    /** The milter side writing a session's replies. */
    @Benchmark
    public void encodeReplies(Blackhole blackhole) {
        for (Reply reply : replies) {
            replyEncoder.writeOutbound(reply);
        }
        drainOutbound(replyEncoder, blackhole);
    }

    /** The codec alone, without a pipeline: the static encoder writing a session's commands. */
    @Benchmark
    public void encodeCommandsDirect(Blackhole blackhole) {
        List<Object> out = new ArrayList<>(64);
        for (Command command : commands) {
            CommandEncoder.encode(alloc, command, out);
        }
        release(out, blackhole);
    }

    /** The codec alone, without a pipeline: the static encoder writing a session's replies. */
    @Benchmark
    public void encodeRepliesDirect(Blackhole blackhole) {
        List<Object> out = new ArrayList<>(64);
        for (Reply reply : replies) {
            ReplyEncoder.encode(alloc, reply, out);
        }
        release(out, blackhole);
    }

    private static void release(List<Object> out, Blackhole blackhole) {
        for (Object buf : out) {
            blackhole.consume(buf);
            ReferenceCountUtil.release(buf);
        }
    }

    static void drainInbound(EmbeddedChannel channel, Blackhole blackhole) {
        Object message;
        while ((message = channel.readInbound()) != null) {
            blackhole.consume(message);
            ReferenceCountUtil.release(message);
        }
    }

    static void drainOutbound(EmbeddedChannel channel, Blackhole blackhole) {
        Object message;
        while ((message = channel.readOutbound()) != null) {
            blackhole.consume(message);
            ReferenceCountUtil.release(message);
        }
    }
}
