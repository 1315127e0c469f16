package milter.manager;

import io.netty.buffer.ByteBuf;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import milter.core.protocol.CommandType;
import milter.core.protocol.Reply;
import milter.manager.message.BodyStore;
import milter.manager.message.HeaderList;

/**
 * The message {@link Children} is working on: what the MTA sent (headers as received, the working header list the
 * children edit, the body store), where the sequential pipeline stands (queue, current child, replay position,
 * the MTA command waiting for its reply) and what the children asked to change. Event loop only.
 */
final class MessageInProgress {
    /** Where a child being brought up to date is in the recorded message. */
    static final class Replay {
        int headerIndex;
        boolean endOfHeaderSent;
        long bodyOffset;
        boolean endOfMessageSent;
    }

    final HeaderList originalHeaders = new HeaderList();
    final HeaderList headers = new HeaderList();
    /** Read per message, so that a changed temporary directory applies to the next message. */
    final BodyStore body = new BodyStore(BodyStore.DEFAULT_MEMORY_THRESHOLD,
            Path.of(System.getProperty("java.io.tmpdir")));
    final ArrayDeque<Child> queue = new ArrayDeque<>();
    boolean started;
    boolean finished;
    boolean sawHeader;
    boolean sawEndOfHeader;
    boolean sawBody;
    boolean sawEndOfMessage;
    /** The data inside the MTA's end of message (a retained slice), passed to every child but not stored. */
    ByteBuf endOfMessageData;
    Child child;
    boolean streaming;
    Replay replay;
    CompletableFuture<Reply> pending;
    CommandType pendingStage;
    Predicate<Reply> toMta;
    Reply.ChangeFrom changeFrom;
    Reply.Quarantine quarantine;
    boolean bodyReplaced;
    Child bodyReplacer;
    /** The body store failed: the message ends with the manager's fallback and without modifications. */
    boolean storeFailed;

    /** Closes the body store and releases the end-of-message data. Safe to call more than once. */
    void release() {
        body.close();
        if (endOfMessageData != null) {
            endOfMessageData.release();
            endOfMessageData = null;
        }
    }
}
