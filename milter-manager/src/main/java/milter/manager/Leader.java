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
        return withChildren(() -> children.connect(connect));
    }

    /**
     * Runs a command on the children; after quit-new-connection a new SMTP session on the same connection starts
     * (with connect or unknown) with fresh children, negotiated with the MTA's original offer.
     */
    private CompletionStage<Reply> withChildren(java.util.function.Supplier<CompletionStage<Reply>> command) {
        if (children == null && offer != null) {
            children = newChildren();
            return children.negotiate(offer).thenCompose(option -> command.get());
        }
        return command.get();
    }

    @Override
    public CompletionStage<Reply> helo(ClientContext ctx, Command.Helo helo) {
        TaggedLogger.debug(context.sessionId(), "[manager][receive][helo]", () -> "<" + helo.fqdn() + ">");
        return withChildren(() -> children.helo(helo));
    }

    @Override
    public CompletionStage<Reply> envelopeFrom(ClientContext ctx, Command.EnvelopeFrom from) {
        return withChildren(() -> children.envelopeFrom(from));
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
        return withChildren(() -> children.unknown(unknown));
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
        return children.endOfMessage(endOfMessage, this::sendToMta);
    }

    /**
     * Sends one modification or progress packet to the MTA: {@code [session][header][add]} for a header that went
     * out with a value, {@code [leader][error][ACTION]} for one the MTA connection refused (upstream logs a failed
     * change-header under insert-header, and so do we).
     */
    private boolean sendToMta(Reply reply) {
        String described = describe(reply);
        if (context.send(reply)) {
            if (reply instanceof Reply.InsertHeader insert) {
                logSessionHeader(insert.name(), insert.value());
            } else if (reply instanceof Reply.AddHeader add) {
                logSessionHeader(add.name(), add.value());
            } else if (reply instanceof Reply.ChangeHeader change && !change.isDelete()) {
                logSessionHeader(change.name(), change.value());
            }
            return true;
        }
        String why;
        milter.core.protocol.Option granted = context.option();
        int needed = reply.type().requiredAction();
        if (needed != 0 && granted != null && (granted.actions() & needed) == 0) {
            why = "the MTA did not grant <" + milter.core.protocol.ActionFlags.toString(needed) + ">";
        } else {
            why = "the connection to the MTA is closed";
        }
        TaggedLogger.error(context.sessionId(), "[leader][error][" + errorTag(reply) + "]", described + ": " + why);
        return false;
    }

    private void logSessionHeader(String name, String value) {
        TaggedLogger.log(milter.core.log.LogLevel.STATISTICS, TaggedLogger.NO_SESSION,
                "[session][header][add](" + context.sessionId() + "):", () -> "<" + name + ">=<" + value + ">");
    }

    private static String errorTag(Reply reply) {
        switch (reply.type()) {
            case ADD_HEADER:
                return "add-header";
            case INSERT_HEADER:
                return "insert-header";
            case CHANGE_HEADER:
                return ((Reply.ChangeHeader) reply).isDelete() ? "delete-header" : "insert-header";
            case CHANGE_FROM:
                return "change-from";
            case ADD_RECIPIENT:
            case ADD_RECIPIENT_WITH_PARAMETERS:
                return "add-recipient";
            case DELETE_RECIPIENT:
                return "delete-recipient";
            case REPLACE_BODY:
                return "replace-body";
            default:
                return reply.type().nick();
        }
    }

    private static String describe(Reply reply) {
        if (reply instanceof Reply.InsertHeader insert) {
            return "<" + insert.name() + ">=<" + insert.value() + ">[" + insert.index() + "]";
        }
        if (reply instanceof Reply.AddHeader add) {
            return "<" + add.name() + ">=<" + add.value() + ">";
        }
        if (reply instanceof Reply.ChangeHeader change) {
            return "<" + change.name() + ">[" + change.index() + "]=<" + change.value() + ">";
        }
        if (reply instanceof Reply.ReplaceBody body) {
            return "<" + body.content().readableBytes() + " bytes>";
        }
        return reply.toString();
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
