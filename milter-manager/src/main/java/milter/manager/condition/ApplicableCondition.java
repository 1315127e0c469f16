package milter.manager.condition;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import milter.core.protocol.CommandType;

/**
 * A named condition attached to eggs: right before a command of a stage is written to a child, the stoppers of
 * that stage of all the child's conditions are asked in order; the first that returns true stops the child for
 * that command. Implementations run on event-loop threads and must not block.
 */
public interface ApplicableCondition {

    String name();

    /** Free text shown by {@code --show-config} and the controller; may be null. */
    String description();

    /** Whether this condition has a stopper for the stage; lets the engine skip the call (and JRuby) entirely. */
    boolean hasStopper(CommandType stage);

    default boolean stopOnConnect(StopperContext context, String host, ClientAddress address) {
        return false;
    }

    /**
     * The connect stopper for conditions that must wait for something (a DNS answer): the engine calls this one,
     * and holds the child's connect until the stage completes, without blocking the event loop. The context may
     * only be used before this method returns. Defaults to {@link #stopOnConnect}.
     */
    default CompletionStage<Boolean> stopOnConnectAsync(StopperContext context, String host, ClientAddress address) {
        return CompletableFuture.completedFuture(stopOnConnect(context, host, address));
    }

    default boolean stopOnHelo(StopperContext context, String fqdn) {
        return false;
    }

    default boolean stopOnEnvelopeFrom(StopperContext context, String from) {
        return false;
    }

    default boolean stopOnEnvelopeRecipient(StopperContext context, String recipient) {
        return false;
    }

    default boolean stopOnData(StopperContext context) {
        return false;
    }

    default boolean stopOnHeader(StopperContext context, String name, String value) {
        return false;
    }

    default boolean stopOnEndOfHeader(StopperContext context) {
        return false;
    }

    default boolean stopOnBody(StopperContext context, ByteBuf chunk) {
        return false;
    }

    default boolean stopOnEndOfMessage(StopperContext context) {
        return false;
    }
}
