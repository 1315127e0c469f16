package milter.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * The application side of one MTA connection: one instance per connection, created by a {@link MilterFactory}.
 *
 * <p>Threading: every method is called on the connection's event loop ({@link ClientContext#eventLoop()}), one
 * at a time, in the order the MTA sent the commands. A method may return a stage completed later from any
 * thread; the client waits for it (queueing further commands) before it answers and goes on. Never block in
 * these methods.
 *
 * <p>Replies: every stage method returns the final reply for its command ({@code continue}, {@code accept},
 * {@code reject}, {@code temporary-failure}, {@code discard}, a {@link Reply.ReplyCode}, or {@code skip} for a
 * body chunk). A {@code null} reply means continue. The client enforces the negotiation on whatever is returned:
 * a stage the MTA agreed not to answer (no-reply flags) gets no packet at all; {@code skip} where it is not allowed
 * becomes continue; an invalid reply code becomes plain reject (5xx) or temporary failure (otherwise); any other
 * kind of packet becomes temporary failure. Each correction is logged. A method that throws, or a stage that fails,
 * is answered with temporary failure.
 *
 * <p>Defaults answer continue, so a milter implements only the stages it cares about.
 */
public interface Milter {

    /**
     * The MTA's {@code O}. Returns what this milter wants: under {@link NegotiationPolicy#LIBMILTER} the actions
     * it needs, the protocol flags it asks for and its macro lists, from which the client builds a
     * libmilter-compatible reply; under {@link NegotiationPolicy#EXACT} the reply itself.
     * The default asks for every offered action and no protocol flag.
     */
    default CompletionStage<Option> negotiate(ClientContext context, Option offer) {
        return CompletableFuture.completedFuture(new Option(offer.version(), offer.actions(), 0));
    }

    /** How the option returned by {@link #negotiate} becomes the {@code O} reply. */
    default NegotiationPolicy negotiationPolicy() {
        return NegotiationPolicy.LIBMILTER;
    }

    default CompletionStage<Reply> connect(ClientContext context, Command.Connect connect) {
        return continueReply();
    }

    default CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
        return continueReply();
    }

    default CompletionStage<Reply> envelopeFrom(ClientContext context, Command.EnvelopeFrom from) {
        return continueReply();
    }

    default CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient recipient) {
        return continueReply();
    }

    default CompletionStage<Reply> data(ClientContext context) {
        return continueReply();
    }

    default CompletionStage<Reply> unknown(ClientContext context, Command.Unknown unknown) {
        return continueReply();
    }

    default CompletionStage<Reply> header(ClientContext context, Command.Header header) {
        return continueReply();
    }

    default CompletionStage<Reply> endOfHeader(ClientContext context) {
        return continueReply();
    }

    /**
     * One body chunk. The client releases {@code body} once the returned stage has completed: call
     * {@code body.retain()} (and release later) to keep the data beyond that.
     */
    default CompletionStage<Reply> body(ClientContext context, Command.Body body) {
        return continueReply();
    }

    /**
     * End of message. Modifications and progress go out through {@link ClientContext#send} while this stage is
     * pending; the final reply is the returned one. {@code endOfMessage.content()} (normally empty) is released
     * like a body chunk.
     */
    default CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage endOfMessage) {
        return continueReply();
    }

    /**
     * The MTA ended the current message without end of message ({@code A}, or a new message or HELO started
     * without one). Called only inside a message: a redundant abort is not passed on. No reply goes to the MTA;
     * the next command waits for the returned stage.
     */
    default CompletionStage<Void> abort(ClientContext context) {
        return done();
    }

    /**
     * {@code Q}: the SMTP session is over and the connection will be closed once the returned stage completes.
     * Not preceded by {@link #abort} when a message was in progress: treat quit as the end of everything.
     */
    default CompletionStage<Void> quit(ClientContext context) {
        return done();
    }

    /**
     * {@code K}: the SMTP session is over but the connection stays open for the next one, which starts with
     * connect (or unknown) and no new negotiation. Macros are cleared. Defaults to {@link #quit}.
     */
    default CompletionStage<Void> quitNewConnection(ClientContext context) {
        return quit(context);
    }

    /** The connection is gone (quit, MTA disconnect, error, timeout or client shutdown). Called exactly once. */
    default void closed(ClientContext context) {
    }

    /** A completed continue, for implementations. */
    static CompletionStage<Reply> continueReply() {
        return CompletableFuture.completedFuture(Reply.Continue.INSTANCE);
    }

    /** A completed stage with the given reply. */
    static CompletionStage<Reply> reply(Reply reply) {
        return CompletableFuture.completedFuture(reply);
    }

    /** A completed void stage. */
    static CompletionStage<Void> done() {
        return CompletableFuture.completedFuture(null);
    }
}
