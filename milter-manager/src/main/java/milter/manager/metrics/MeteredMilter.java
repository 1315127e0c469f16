package milter.manager.metrics;

import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.NegotiationPolicy;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * Counts one MTA session around its {@link Milter} (the leader): start, the time each stage takes to be answered,
 * body bytes, and at the end the last status replied and the last stage. The MTA's commands come one at a time on
 * the session's event loop, so one pending stage is tracked in plain fields and this object itself observes the
 * reply (no per-command lambda).
 */
final class MeteredMilter implements Milter, BiConsumer<Reply, Throwable> {
    private final Milter delegate;
    private final ManagerMetrics metrics;
    private final long startNanos = System.nanoTime();
    private Stage lastStage = Stage.NEGOTIATE;
    private Verdict lastVerdict = Verdict.CONTINUE;
    private Stage pendingStage = Stage.NEGOTIATE;
    private long pendingStart;
    private boolean finished;

    MeteredMilter(Milter delegate, ManagerMetrics metrics) {
        this.delegate = delegate;
        this.metrics = metrics;
        metrics.sessionStarted();
    }

    private CompletionStage<Reply> observe(Stage stage, CompletionStage<Reply> reply) {
        lastStage = stage;
        pendingStage = stage;
        pendingStart = System.nanoTime();
        return reply.whenComplete(this);
    }

    /** The pending stage's reply. */
    @Override
    public void accept(Reply reply, Throwable error) {
        metrics.stageAnswered(pendingStage, System.nanoTime() - pendingStart);
        // A failed stage is answered with temporary failure by the client.
        lastVerdict = error != null ? Verdict.TEMPORARY_FAILURE : Verdict.of(reply);
    }

    @Override
    public NegotiationPolicy negotiationPolicy() {
        return delegate.negotiationPolicy();
    }

    @Override
    public CompletionStage<Option> negotiate(ClientContext context, Option offer) {
        long start = System.nanoTime();
        lastStage = Stage.NEGOTIATE;
        return delegate.negotiate(context, offer).whenComplete((option, error) ->
                metrics.stageAnswered(Stage.NEGOTIATE, System.nanoTime() - start));
    }

    @Override
    public CompletionStage<Reply> connect(ClientContext context, Command.Connect connect) {
        return observe(Stage.CONNECT, delegate.connect(context, connect));
    }

    @Override
    public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
        return observe(Stage.HELO, delegate.helo(context, helo));
    }

    @Override
    public CompletionStage<Reply> envelopeFrom(ClientContext context, Command.EnvelopeFrom from) {
        return observe(Stage.ENVELOPE_FROM, delegate.envelopeFrom(context, from));
    }

    @Override
    public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient recipient) {
        return observe(Stage.ENVELOPE_RECIPIENT, delegate.envelopeRecipient(context, recipient));
    }

    @Override
    public CompletionStage<Reply> data(ClientContext context) {
        return observe(Stage.DATA, delegate.data(context));
    }

    @Override
    public CompletionStage<Reply> unknown(ClientContext context, Command.Unknown unknown) {
        return observe(Stage.UNKNOWN, delegate.unknown(context, unknown));
    }

    @Override
    public CompletionStage<Reply> header(ClientContext context, Command.Header header) {
        return observe(Stage.HEADER, delegate.header(context, header));
    }

    @Override
    public CompletionStage<Reply> endOfHeader(ClientContext context) {
        return observe(Stage.END_OF_HEADER, delegate.endOfHeader(context));
    }

    @Override
    public CompletionStage<Reply> body(ClientContext context, Command.Body body) {
        metrics.bodyReceived(body.content().readableBytes());
        return observe(Stage.BODY, delegate.body(context, body));
    }

    @Override
    public CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage endOfMessage) {
        return observe(Stage.END_OF_MESSAGE, delegate.endOfMessage(context, endOfMessage));
    }

    @Override
    public CompletionStage<Void> abort(ClientContext context) {
        return delegate.abort(context);
    }

    @Override
    public CompletionStage<Void> quit(ClientContext context) {
        return delegate.quit(context);
    }

    @Override
    public CompletionStage<Void> quitNewConnection(ClientContext context) {
        return delegate.quitNewConnection(context);
    }

    @Override
    public void closed(ClientContext context) {
        try {
            delegate.closed(context);
        } finally {
            if (!finished) {
                finished = true;
                metrics.sessionFinished(lastVerdict, lastStage, System.nanoTime() - startNanos);
            }
        }
    }
}
