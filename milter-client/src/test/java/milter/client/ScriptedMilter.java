package milter.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.BiFunction;
import java.util.function.Function;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * A milter for tests: records every callback (with the macros visible then) and answers from per-stage scripts.
 * Events are recorded on event loop threads and read by the test thread, hence the synchronized list.
 */
class ScriptedMilter implements Milter {
    final List<String> events = new ArrayList<>();
    final CountDownLatch closed = new CountDownLatch(1);
    final java.util.concurrent.atomic.AtomicInteger callsOffTheEventLoop = new java.util.concurrent.atomic.AtomicInteger();
    volatile ClientContext context;
    volatile Function<Option, Option> negotiation = offer -> new Option(offer.version(), offer.actions(), 0);
    volatile NegotiationPolicy policy = NegotiationPolicy.LIBMILTER;
    volatile BiFunction<ClientContext, Command, CompletionStage<Reply>> script = (ctx, command) -> null;

    static MilterFactory factory(ScriptedMilter milter) {
        return context -> {
            milter.context = context;
            return milter;
        };
    }

    List<String> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    void record(String event) {
        synchronized (events) {
            events.add(event);
        }
    }

    private CompletionStage<Reply> stage(ClientContext ctx, Command command, String event) {
        if (!ctx.eventLoop().inEventLoop()) {
            callsOffTheEventLoop.incrementAndGet();
        }
        Map<String, String> visible = ctx.macros().visible(command.type());
        record(visible.isEmpty() ? event : event + " " + visible);
        CompletionStage<Reply> scripted = script.apply(ctx, command);
        return scripted == null ? Milter.continueReply() : scripted;
    }

    @Override
    public CompletionStage<Option> negotiate(ClientContext ctx, Option offer) {
        record("negotiate " + offer.version());
        return CompletableFuture.completedFuture(negotiation.apply(offer));
    }

    @Override
    public NegotiationPolicy negotiationPolicy() {
        return policy;
    }

    @Override
    public CompletionStage<Reply> connect(ClientContext ctx, Command.Connect connect) {
        return stage(ctx, connect, "connect " + connect.host());
    }

    @Override
    public CompletionStage<Reply> helo(ClientContext ctx, Command.Helo helo) {
        return stage(ctx, helo, "helo " + helo.fqdn());
    }

    @Override
    public CompletionStage<Reply> envelopeFrom(ClientContext ctx, Command.EnvelopeFrom from) {
        return stage(ctx, from, "envelope-from " + from.address() + from.parameters());
    }

    @Override
    public CompletionStage<Reply> envelopeRecipient(ClientContext ctx, Command.EnvelopeRecipient rcpt) {
        return stage(ctx, rcpt, "envelope-recipient " + rcpt.address());
    }

    @Override
    public CompletionStage<Reply> data(ClientContext ctx) {
        return stage(ctx, Command.Data.INSTANCE, "data");
    }

    @Override
    public CompletionStage<Reply> unknown(ClientContext ctx, Command.Unknown unknown) {
        return stage(ctx, unknown, "unknown " + unknown.command());
    }

    @Override
    public CompletionStage<Reply> header(ClientContext ctx, Command.Header header) {
        return stage(ctx, header, "header " + header.name() + "=" + header.value());
    }

    @Override
    public CompletionStage<Reply> endOfHeader(ClientContext ctx) {
        return stage(ctx, Command.EndOfHeader.INSTANCE, "end-of-header");
    }

    @Override
    public CompletionStage<Reply> body(ClientContext ctx, Command.Body body) {
        return stage(ctx, body, "body " + body.content().toString(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Override
    public CompletionStage<Reply> endOfMessage(ClientContext ctx, Command.EndOfMessage eom) {
        return stage(ctx, eom, "end-of-message");
    }

    @Override
    public CompletionStage<Void> abort(ClientContext ctx) {
        record("abort");
        return Milter.done();
    }

    @Override
    public CompletionStage<Void> quit(ClientContext ctx) {
        record("quit");
        return Milter.done();
    }

    @Override
    public CompletionStage<Void> quitNewConnection(ClientContext ctx) {
        record("quit-new-connection");
        return Milter.done();
    }

    @Override
    public void closed(ClientContext ctx) {
        record("closed");
        closed.countDown();
    }

    static boolean is(Command command, CommandType type) {
        return command.type() == type;
    }
}
