package milter.manager;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import milter.core.protocol.Command;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * One open connection to a child milter, as the engine uses it. Every method is called on the session's event
 * loop and every returned stage completes there. A stage fails when the child times out, breaks the protocol or
 * goes away (the connection is then closed); {@link ChildFailure#of} names the failure's kind. Callers must not
 * complete the returned stages.
 */
public interface ChildChannel {

    /** Sends the MTA's offer and completes with the effective option after checking the child's answer. */
    CompletionStage<Option> negotiate(Option offer);

    /**
     * Writes a reply-expecting command and completes with the child's reply. Commands the child negotiated away
     * (no-event flags, older protocol versions) and no-reply stages complete with continue (skip for a body
     * the child does not want) without waiting.
     */
    CompletionStage<Reply> send(Command command);

    /** Writes macros for the command that follows; filtered to the child's requested list for that stage. */
    void sendMacros(Command.DefineMacro macros);

    /**
     * Writes end of message with optional data; modification and progress packets go to {@code modifications} as
     * they arrive, the stage completes with the final reply.
     */
    CompletionStage<Reply> endOfMessage(ByteBuf data, Consumer<Reply> modifications);

    void abort();

    /** Writes quit and closes the connection once it is flushed. */
    void quit();

    /** Closes at once. */
    void close();

    /** Called once when the connection is closed, for whatever reason. */
    void onClose(Runnable listener);

    /** The option agreed with the child (null before negotiation). */
    Option option();
}
