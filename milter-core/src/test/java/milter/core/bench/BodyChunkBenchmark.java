package milter.core.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.codec.CommandDecoder;
import milter.core.codec.CommandEncoder;
import milter.core.codec.ReplyDecoder;
import milter.core.codec.ReplyEncoder;
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
 * One maximal body chunk (65535 bytes: the largest {@code B}/{@code b} payload, i.e. a 64 KiB chunk) per
 * operation, through the real handlers with the pooled allocator. Bytes per second = ops/s x 65535.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BodyChunkBenchmark {
    public static final int CHUNK = CommandEncoder.MAX_BODY_CHUNK;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private ByteBuf chunk;
    private ByteBuf bodyPacket;
    private ByteBuf replaceBodyPacket;
    private EmbeddedChannel commandDecoder;
    private EmbeddedChannel commandEncoder;
    private EmbeddedChannel replyDecoder;
    private EmbeddedChannel replyEncoder;

    @Setup(Level.Trial)
    public void setUp() {
        chunk = alloc.directBuffer(CHUNK);
        for (int i = 0; i < CHUNK; i++) {
            chunk.writeByte(i % 78 == 77 ? '\n' : 'a' + i % 26);
        }
        List<Object> parts = new ArrayList<>();
        CommandEncoder.encode(alloc, new Command.Body(chunk), parts);
        bodyPacket = join(parts);
        parts.clear();
        ReplyEncoder.encode(alloc, new Reply.ReplaceBody(chunk), parts);
        replaceBodyPacket = join(parts);
        commandDecoder = channel(new CommandDecoder());
        commandEncoder = channel(CommandEncoder.INSTANCE);
        replyDecoder = channel(new ReplyDecoder());
        replyEncoder = channel(ReplyEncoder.INSTANCE);
    }

    private ByteBuf join(List<Object> parts) {
        ByteBuf all = alloc.directBuffer(CHUNK + 5);
        for (Object part : parts) {
            all.writeBytes((ByteBuf) part);
            ((ByteBuf) part).release();
        }
        return all;
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
        bodyPacket.release();
        replaceBodyPacket.release();
        chunk.release();
    }

    /** Milter side: a {@code B} packet in, a {@code Body} (a slice of the input) out. */
    @Benchmark
    public void decodeBody(Blackhole blackhole) {
        commandDecoder.writeInbound(bodyPacket.retainedDuplicate());
        SessionCodecBenchmark.drainInbound(commandDecoder, blackhole);
    }

    /** MTA side: a {@code Body} in, a packet header and a slice of the chunk out. */
    @Benchmark
    public void encodeBody(Blackhole blackhole) {
        commandEncoder.writeOutbound(new Command.Body(chunk.retainedDuplicate()));
        SessionCodecBenchmark.drainOutbound(commandEncoder, blackhole);
    }

    /** MTA side: a {@code b} packet in, a {@code ReplaceBody} out. */
    @Benchmark
    public void decodeReplaceBody(Blackhole blackhole) {
        replyDecoder.writeInbound(replaceBodyPacket.retainedDuplicate());
        SessionCodecBenchmark.drainInbound(replyDecoder, blackhole);
    }

    /** Milter side: a {@code ReplaceBody} in, a packet header and a slice out. */
    @Benchmark
    public void encodeReplaceBody(Blackhole blackhole) {
        replyEncoder.writeOutbound(new Reply.ReplaceBody(chunk.retainedDuplicate()));
        SessionCodecBenchmark.drainOutbound(replyEncoder, blackhole);
    }
}
