package milter.manager;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.NegotiationPolicy;
import milter.core.log.TaggedLogger;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;
import milter.core.protocol.Status;
import milter.manager.config.Configuration;

/**
 * The manager as the MTA sees it: one per MTA connection, turning each MTA command into work for the session's
 * {@link Children} and their merged answer into the reply. The configuration snapshot is the one current when the
 * connection was accepted; a reload never changes a running session.
 */
public final class Leader implements Milter {
    private final ClientContext context;
    private final Configuration configuration;
    private final ChildConnector connector;
    private final SessionCounter counter;
    private final long startNanos = System.nanoTime();
    private Children children;
    private Option offer;
    private boolean ended;

    public Leader(ClientContext context, Configuration configuration, ChildConnector connector,
            SessionCounter counter) {
        this.context = context;
        this.configuration = configuration;
        this.connector = connector;
        this.counter = counter;
        counter.started();
        TaggedLogger.debug(context.sessionId(), "[manager][session][start]", "");
    }

    @Override
    public NegotiationPolicy negotiationPolicy() {
        return NegotiationPolicy.EXACT;
    }

    @Override
    public CompletionStage<Option> negotiate(ClientContext ctx, Option mtaOffer) {
        offer = mtaOffer;
        children = newChildren();
        return children.negotiate(mtaOffer);
    }

    private Children newChildren() {
        return new Children(context.sessionId(), configuration, connector, context.eventLoop(), context.macros(),
                counter::processing);
    }

    @Override
    public CompletionStage<Reply> connect(ClientContext ctx, Command.Connect connect) {
        TaggedLogger.debug(context.sessionId(), "[manager][receive][connect]",
                () -> "<" + connect.host() + ">");
        if (children == null && offer != null) {
            // After quit-new-connection: a new SMTP session on the same connection, with fresh children.
            children = newChildren();
            return children.negotiate(offer).thenCompose(option -> children.connect(connect));
        }
        return children.connect(connect);
    }

    @Override
    public CompletionStage<Reply> helo(ClientContext ctx, Command.Helo helo) {
        TaggedLogger.debug(context.sessionId(), "[manager][receive][helo]", () -> "<" + helo.fqdn() + ">");
        return children.helo(helo);
    }

    @Override
    public CompletionStage<Reply> envelopeFrom(ClientContext ctx, Command.EnvelopeFrom from) {
        return children.envelopeFrom(from);
    }

    @Override
    public CompletionStage<Reply> envelopeRecipient(ClientContext ctx, Command.EnvelopeRecipient recipient) {
        return children.envelopeRecipient(recipient);
    }

    @Override
    public CompletionStage<Reply> data(ClientContext ctx) {
        return children.data();
    }

    @Override
    public CompletionStage<Reply> unknown(ClientContext ctx, Command.Unknown unknown) {
        return children.unknown(unknown);
    }

    @Override
    public CompletionStage<Reply> header(ClientContext ctx, Command.Header header) {
        return children.header(header);
    }

    @Override
    public CompletionStage<Reply> endOfHeader(ClientContext ctx) {
        return children.endOfHeader();
    }

    @Override
    public CompletionStage<Reply> body(ClientContext ctx, Command.Body body) {
        return children.body(body);
    }

    @Override
    public CompletionStage<Reply> endOfMessage(ClientContext ctx, Command.EndOfMessage endOfMessage) {
        return children.endOfMessage(endOfMessage, ctx::send);
    }

    @Override
    public CompletionStage<Void> abort(ClientContext ctx) {
        if (children != null) {
            children.abort();
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> quit(ClientContext ctx) {
        if (children != null) {
            children.quit();
        }
        endSession();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletionStage<Void> quitNewConnection(ClientContext ctx) {
        if (children != null) {
            children.quit();
            reportSessionEnd();
            children = null;
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void closed(ClientContext ctx) {
        if (children != null) {
            children.close();
        }
        endSession();
    }

    private void endSession() {
        if (ended) {
            return;
        }
        ended = true;
        reportSessionEnd();
        counter.finished();
    }

    private void reportSessionEnd() {
        if (children == null) {
            return;
        }
        Status status = children.lastMtaStatus();
        String nick = status.isPass() ? "pass" : status.nick();
        String elapsed = CFormat.g((System.nanoTime() - startNanos) / 1e9);
        TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[session][end][" + children.lastMtaStage().nick() + "]["
                + nick + "][" + elapsed + "](" + context.sessionId() + ")", "");
    }
}
