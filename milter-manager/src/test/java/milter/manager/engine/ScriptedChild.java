package milter.manager.engine;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.MilterClient;
import milter.client.NegotiationPolicy;
import milter.core.codec.ReplyEncoder;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * A child milter for engine tests, on our own milter-client: answers each stage as scripted, makes the scripted
 * modifications at end of message, and records every event it sees (in order, as text, with the macros the manager
 * sent for that stage) so tests can assert what the manager sent to which child. Misbehaviour (closing, hanging,
 * writing garbage or a reply the state does not allow) is scripted per stage with {@link #behave}.
 */
final class ScriptedChild implements AutoCloseable {
    /** What a child does at a stage instead of answering from its script. */
    @FunctionalInterface
    interface Behaviour {
        CompletionStage<Reply> apply(ClientContext context, Command command);
    }

    final String name;
    final List<String> events = new CopyOnWriteArrayList<>();
    private final EnumMap<CommandType, Function<Command, Reply>> replies = new EnumMap<>(CommandType.class);
    private final EnumMap<CommandType, Behaviour> behaviours = new EnumMap<>(CommandType.class);
    private final List<Supplier<Reply>> modifications = new ArrayList<>();
    private final EnumMap<CommandType, Long> delays = new EnumMap<>(CommandType.class);
    private final Map<MacroStage, List<String>> macroRequests = new EnumMap<>(MacroStage.class);
    private final Set<Long> sessionIds = ConcurrentHashMap.newKeySet();
    private volatile int protocolFlags;
    private volatile int actions = -1;
    private volatile int version = 6;
    private volatile Option offer;
    private volatile Option negotiateReply;
    private final MilterClient client;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    ScriptedChild(String name, EventLoopGroup group) {
        this.name = name;
        this.client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), ctx -> {
            sessionIds.add(ctx.sessionId());
            return new Scripted();
        }).eventLoopGroup(group).build();
    }

    ScriptedChild start() {
        client.start().toCompletableFuture().join();
        return this;
    }

    ConnectionSpec spec() {
        return client.boundSpec();
    }

    ScriptedChild reply(CommandType stage, Reply reply) {
        replies.put(stage, command -> reply);
        return this;
    }

    ScriptedChild reply(CommandType stage, Function<Command, Reply> answer) {
        replies.put(stage, answer);
        return this;
    }

    /** Answer recipients equal to {@code address} with {@code reply}; others as scripted before (continue). */
    ScriptedChild replyRecipient(String address, Reply reply) {
        Function<Command, Reply> previous = replies.get(CommandType.ENVELOPE_RECIPIENT);
        replies.put(CommandType.ENVELOPE_RECIPIENT, command -> {
            if (((Command.EnvelopeRecipient) command).address().equals(address)) {
                return reply;
            }
            return previous == null ? Reply.Continue.INSTANCE : previous.apply(command);
        });
        return this;
    }

    /** Answer body chunks containing {@code text} with {@code reply}; others continue. */
    ScriptedChild replyBodyContaining(String text, Reply reply) {
        return reply(CommandType.BODY, command -> ((Command.Body) command).content()
                .toString(StandardCharsets.ISO_8859_1).contains(text) ? reply : Reply.Continue.INSTANCE);
    }

    /** Answer end of message whose data contains {@code text} with {@code reply}; others continue. */
    ScriptedChild replyEndOfMessageContaining(String text, Reply reply) {
        return reply(CommandType.END_OF_MESSAGE, command -> ((Command.EndOfMessage) command).content()
                .toString(StandardCharsets.ISO_8859_1).contains(text) ? reply : Reply.Continue.INSTANCE);
    }

    /** Replaces the scripted answer of a stage with arbitrary behaviour (the event is still recorded). */
    ScriptedChild behave(CommandType stage, Behaviour behaviour) {
        behaviours.put(stage, behaviour);
        return this;
    }

    /** Closes the connection at this stage without answering. */
    ScriptedChild closeAt(CommandType stage) {
        return behave(stage, (context, command) -> {
            context.close();
            return new CompletableFuture<>();
        });
    }

    /** Never answers this stage (a hanging child). */
    ScriptedChild hangAt(CommandType stage) {
        return behave(stage, (context, command) -> new CompletableFuture<>());
    }

    /** Writes these bytes instead of an answer, bypassing the protocol state machine, and never answers. */
    ScriptedChild rawAt(CommandType stage, byte[] bytes) {
        return behave(stage, (context, command) -> {
            context.channel().writeAndFlush(Unpooled.wrappedBuffer(bytes));
            return new CompletableFuture<>();
        });
    }

    /** A raw packet: length, command letter, payload (for packets our encoder refuses to build). */
    static byte[] packet(char letter, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[5 + body.length];
        int length = body.length + 1;
        out[0] = (byte) (length >>> 24);
        out[1] = (byte) (length >>> 16);
        out[2] = (byte) (length >>> 8);
        out[3] = (byte) length;
        out[4] = (byte) letter;
        System.arraycopy(body, 0, out, 5, body.length);
        return out;
    }

    /** Writes a packet the state does not allow (it bypasses the protocol state machine) and never answers. */
    ScriptedChild illegalReplyAt(CommandType stage, Reply packet) {
        return behave(stage, (context, command) -> {
            List<Object> out = new ArrayList<>();
            ReplyEncoder.encode(context.channel().alloc(), packet, out);
            CompositeByteBuf wire = context.channel().alloc().compositeBuffer();
            for (Object part : out) {
                wire.addComponent(true, (ByteBuf) part);
            }
            context.channel().writeAndFlush(wire);
            return new CompletableFuture<>();
        });
    }

    /** Stops reading from the manager at this stage (after answering continue), so its writes back up. */
    ScriptedChild stopReadingAt(CommandType stage) {
        return behave(stage, (context, command) -> {
            context.channel().config().setAutoRead(false);
            return CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
        });
    }

    ScriptedChild modify(Reply... packets) {
        for (Reply packet : packets) {
            modifications.add(() -> packet);
        }
        return this;
    }

    /** Replace the body with {@code text} (one packet per call) at end of message. */
    ScriptedChild replaceBody(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        modifications.add(() -> new Reply.ReplaceBody(Unpooled.wrappedBuffer(bytes)));
        return this;
    }

    /** Protocol flags asked for in the negotiate reply (masked with the offer). */
    ScriptedChild protocol(int flags) {
        this.protocolFlags = flags;
        return this;
    }

    /** Actions asked for in the negotiate reply (masked with the offer); default: everything offered. */
    ScriptedChild actions(int mask) {
        this.actions = mask;
        return this;
    }

    ScriptedChild version(int newVersion) {
        this.version = newVersion;
        return this;
    }

    /** Answers the negotiation with exactly this option, whatever was offered. */
    ScriptedChild negotiateReply(Option reply) {
        this.negotiateReply = reply;
        return this;
    }

    /** A macro list for a stage in the negotiate reply. */
    ScriptedChild macroRequest(MacroStage stage, String... names) {
        macroRequests.put(stage, List.of(names));
        return this;
    }

    /** Answer this stage after {@code millis} (a negative delay never answers). */
    ScriptedChild delay(CommandType stage, long millis) {
        delays.put(stage, millis);
        return this;
    }

    List<String> events() {
        return List.copyOf(events);
    }

    private void record(String event) {
        synchronized (events) {
            events.add(event);
            events.notifyAll();
        }
    }

    /** Waits (hang guard: 20 s) until the child saw {@code event}. */
    void awaitEvent(String event) throws InterruptedException {
        awaitEvent(event, 1);
    }

    /** Waits (hang guard: 20 s) until the child saw {@code event} {@code count} times. */
    void awaitEvent(String event, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        synchronized (events) {
            while (events.stream().filter(event::equals).count() < count) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError(name + " never saw <" + event + "> " + count + " times: " + events);
                }
                events.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** The events from the first one equal to {@code first}, for message assertions. */
    List<String> eventsFrom(String first) {
        List<String> all = events();
        int index = all.indexOf(first);
        return index < 0 ? List.of() : all.subList(index, all.size());
    }

    /** The offer the manager sent in its negotiate command (null before it came). */
    Option offer() {
        return offer;
    }

    /** Session ids of this child's connections (their log lines carry them). */
    Set<Long> sessionIds() {
        return Set.copyOf(sessionIds);
    }

    /** Completes when a connection of this child closed. */
    CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public void close() {
        client.close();
    }

    private final class Scripted implements Milter {
        @Override
        public NegotiationPolicy negotiationPolicy() {
            return NegotiationPolicy.EXACT;
        }

        @Override
        public CompletionStage<Option> negotiate(ClientContext context, Option mtaOffer) {
            offer = mtaOffer;
            record("negotiate " + mtaOffer.version());
            if (negotiateReply != null) {
                return CompletableFuture.completedFuture(negotiateReply);
            }
            int wantedActions = actions < 0 ? mtaOffer.actions() : actions & mtaOffer.actions();
            if (!macroRequests.isEmpty()) {
                wantedActions |= mtaOffer.actions() & ActionFlags.SET_SYMBOL_LIST;
            }
            return CompletableFuture.completedFuture(new Option(Math.min(version, mtaOffer.version()), wantedActions,
                    protocolFlags & mtaOffer.protocol(), macroRequests));
        }

        private CompletionStage<Reply> answer(ClientContext context, CommandType stage, Command command,
                String event) {
            record(event + macros(context, stage));
            Behaviour behaviour = behaviours.get(stage);
            if (behaviour != null) {
                return behaviour.apply(context, command);
            }
            Function<Command, Reply> script = replies.get(stage);
            Reply reply = script == null ? Reply.Continue.INSTANCE : script.apply(command);
            Long delay = delays.get(stage);
            if (delay == null) {
                return CompletableFuture.completedFuture(reply);
            }
            CompletableFuture<Reply> later = new CompletableFuture<>();
            if (delay >= 0) {
                context.eventLoop().schedule(() -> later.complete(reply), delay, TimeUnit.MILLISECONDS);
            }
            return later;
        }

        @Override
        public CompletionStage<Reply> connect(ClientContext context, Command.Connect connect) {
            return answer(context, CommandType.CONNECT, connect, "connect " + connect.host() + " "
                    + connect.address());
        }

        @Override
        public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
            return answer(context, CommandType.HELO, helo, "helo " + helo.fqdn());
        }

        @Override
        public CompletionStage<Reply> envelopeFrom(ClientContext context, Command.EnvelopeFrom from) {
            return answer(context, CommandType.ENVELOPE_FROM, from, "mail " + from.address()
                    + (from.parameters().isEmpty() ? "" : " " + String.join(" ", from.parameters())));
        }

        @Override
        public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient rcpt) {
            return answer(context, CommandType.ENVELOPE_RECIPIENT, rcpt, "rcpt " + rcpt.address()
                    + (rcpt.parameters().isEmpty() ? "" : " " + String.join(" ", rcpt.parameters())));
        }

        @Override
        public CompletionStage<Reply> data(ClientContext context) {
            return answer(context, CommandType.DATA, Command.Data.INSTANCE, "data");
        }

        @Override
        public CompletionStage<Reply> unknown(ClientContext context, Command.Unknown unknown) {
            return answer(context, CommandType.UNKNOWN, unknown, "unknown " + unknown.command());
        }

        @Override
        public CompletionStage<Reply> header(ClientContext context, Command.Header header) {
            return answer(context, CommandType.HEADER, header, "header " + header.name() + "=" + header.value());
        }

        @Override
        public CompletionStage<Reply> endOfHeader(ClientContext context) {
            return answer(context, CommandType.END_OF_HEADER, Command.EndOfHeader.INSTANCE, "eoh");
        }

        @Override
        public CompletionStage<Reply> body(ClientContext context, Command.Body body) {
            int size = body.content().readableBytes();
            String text = size > 200 ? "<" + size + " bytes>" : body.content().toString(StandardCharsets.ISO_8859_1);
            return answer(context, CommandType.BODY, body, "body " + text);
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage eom) {
            String data = eom.content().isReadable() ? " " + eom.content().toString(StandardCharsets.ISO_8859_1) : "";
            String event = "eom" + data;
            if (behaviours.get(CommandType.END_OF_MESSAGE) == null) {
                for (Supplier<Reply> modification : modifications) {
                    context.send(modification.get());
                }
            }
            return answer(context, CommandType.END_OF_MESSAGE, eom, event);
        }

        @Override
        public CompletionStage<Void> abort(ClientContext context) {
            record("abort");
            return Milter.done();
        }

        @Override
        public CompletionStage<Void> quit(ClientContext context) {
            record("quit");
            return Milter.done();
        }

        @Override
        public void closed(ClientContext context) {
            closed.complete(null);
        }

        private String macros(ClientContext context, CommandType stage) {
            Map<String, String> table = context.macros().stage(stage);
            return table == null || table.isEmpty() ? "" : " " + new TreeMap<>(table);
        }
    }
}
