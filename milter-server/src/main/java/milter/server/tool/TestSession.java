package milter.server.tool;

import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import milter.core.net.Transport;
import milter.core.protocol.Command;
import milter.core.protocol.Reply;
import milter.core.protocol.Status;
import milter.server.MilterTimeoutException;
import milter.server.ServerOptions;
import milter.server.ServerSession;

/**
 * One run of the test server's conversation with a milter: connect, negotiate, then connect / helo / MAIL /
 * each RCPT / unknown / DATA / each header / end of header / each body chunk / end of message, following the
 * milter's answers as upstream's {@code milter-test-server} does (a refused recipient is dropped and the next one
 * tried; any other final answer ends the message with abort and quit). Runs entirely on its event loop.
 */
final class TestSession {
    private enum Step {
        CONNECT, HELO, ENVELOPE_FROM, ENVELOPE_RECIPIENT, UNKNOWN, DATA, HEADER, END_OF_HEADER, BODY,
        END_OF_MESSAGE, DONE
    }

    private final SessionPlan plan;
    private final ServerOptions options;
    private final EventLoop loop;
    private final Transport transport;
    private final TestMessage message;
    private final CompletableFuture<SessionResult> result = new CompletableFuture<>();

    private ServerSession session;
    private Step step = Step.CONNECT;
    private int index;
    private int remainingRecipients;
    private Status status = Status.NOT_CHANGE;
    private Status recipientStatus;
    private String replyCode;
    private String quarantineReason;
    private String error;
    private long startNanos;
    private long connectedNanos;

    /**
     * @param message the copy of the message to apply modifications to, or null when nobody will look at it
     */
    TestSession(SessionPlan plan, ServerOptions options, EventLoop loop, Transport transport, TestMessage message) {
        this.plan = plan;
        this.options = options;
        this.loop = loop;
        this.transport = transport;
        this.message = message;
        this.remainingRecipients = plan.recipients.size();
    }

    CompletionStage<SessionResult> run() {
        loop.execute(this::start);
        return result;
    }

    private void start() {
        startNanos = System.nanoTime();
        ServerSession.connect(options, loop, transport).whenComplete((connected, failure) -> {
            if (failure != null) {
                error = describe(failure);
                result.complete(new SessionResult(false, status, replyCode, null, error, 0,
                        System.nanoTime() - startNanos, message));
                return;
            }
            session = connected;
            connectedNanos = System.nanoTime();
            session.negotiate(plan.offer).whenComplete((option, negotiateFailure) -> {
                if (negotiateFailure != null) {
                    failed(negotiateFailure);
                } else {
                    advance();
                }
            });
        });
    }

    /** Sends steps while their answers are already there (skipped or no-reply ones), then waits for one. */
    private void advance() {
        while (true) {
            if (step == Step.DONE) {
                session.quit().whenComplete((ignored, failure) -> finish());
                return;
            }
            CompletableFuture<Reply> sent = sendCurrent().toCompletableFuture();
            if (!sent.isDone()) {
                sent.whenComplete((reply, failure) -> {
                    if (onAnswer(reply, failure)) {
                        advance();
                    }
                });
                return;
            }
            Reply reply = null;
            Throwable failure = null;
            try {
                reply = sent.join();
            } catch (CompletionException e) {
                failure = e.getCause();
            }
            if (!onAnswer(reply, failure)) {
                return;
            }
        }
    }

    private CompletionStage<Reply> sendCurrent() {
        switch (step) {
            case CONNECT:
                macros(plan.connectMacros);
                return session.send(plan.connect);
            case HELO:
                macros(plan.heloMacros);
                return session.send(plan.helo);
            case ENVELOPE_FROM:
                macros(plan.envelopeFromMacros);
                return session.send(plan.envelopeFrom);
            case ENVELOPE_RECIPIENT:
                macros(plan.recipientMacros.get(index));
                return session.send(plan.recipients.get(index));
            case UNKNOWN:
                return session.send(plan.unknown);
            case DATA:
                macros(plan.dataMacros);
                return session.send(Command.Data.INSTANCE);
            case HEADER:
                return session.send(plan.headers.get(index));
            case END_OF_HEADER:
                macros(plan.endOfHeaderMacros);
                return session.send(Command.EndOfHeader.INSTANCE);
            case BODY:
                return session.send(plan.body(index));
            case END_OF_MESSAGE:
                macros(plan.endOfMessageMacros);
                return session.endOfMessage(null, this::onModification);
            default:
                throw new IllegalStateException("nothing to send at " + step);
        }
    }

    private void macros(Command.DefineMacro macros) {
        if (macros != null) {
            session.sendMacros(macros);
        }
    }

    private void onModification(Reply reply) {
        if (reply instanceof Reply.Quarantine quarantine) {
            status = Status.QUARANTINE;
            quarantineReason = quarantine.reason();
        }
        if (message != null) {
            message.apply(reply);
        }
    }

    /** Acts on a step's answer; true when the conversation goes on with the next step. */
    private boolean onAnswer(Reply reply, Throwable failure) {
        if (failure != null) {
            failed(failure);
            return false;
        }
        switch (reply.type()) {
            case CONTINUE:
                nextStep();
                return true;
            case SKIP:
                step = Step.END_OF_MESSAGE;
                index = 0;
                return true;
            case REPLY_CODE:
                replyCode = ((Reply.ReplyCode) reply).reply();
                return refused(((Reply.ReplyCode) reply).status());
            case REJECT:
                return refused(Status.REJECT);
            case TEMPORARY_FAILURE:
                return refused(Status.TEMPORARY_FAILURE);
            case ACCEPT:
                status = Status.ACCEPT;
                break;
            case DISCARD:
                status = Status.DISCARD;
                break;
            case CONNECTION_FAILURE:
                status = Status.ERROR;
                break;
            default:
                break;
        }
        stop();
        return false;
    }

    /** A refused recipient only drops that recipient while others remain; elsewhere refusal ends the message. */
    private boolean refused(Status refusal) {
        if (step == Step.ENVELOPE_RECIPIENT) {
            if (message != null) {
                message.removeRecipient(plan.recipients.get(index).address());
            }
            recipientStatus = refusal;
            remainingRecipients--;
            if (remainingRecipients > 0) {
                nextStep();
                return true;
            }
        } else {
            status = refusal;
        }
        stop();
        return false;
    }

    private void nextStep() {
        switch (step) {
            case CONNECT -> step = Step.HELO;
            case HELO -> step = Step.ENVELOPE_FROM;
            case ENVELOPE_FROM -> moveTo(Step.ENVELOPE_RECIPIENT);
            case ENVELOPE_RECIPIENT -> {
                if (++index >= plan.recipients.size()) {
                    moveTo(Step.UNKNOWN);
                }
            }
            case UNKNOWN -> moveTo(Step.DATA);
            case DATA -> moveTo(Step.HEADER);
            case HEADER -> {
                if (++index >= plan.headers.size()) {
                    moveTo(Step.END_OF_HEADER);
                }
            }
            case END_OF_HEADER -> moveTo(Step.BODY);
            case BODY -> {
                if (++index >= plan.bodyChunks.size()) {
                    moveTo(Step.END_OF_MESSAGE);
                }
            }
            case END_OF_MESSAGE -> step = Step.DONE;
            default -> throw new IllegalStateException("no step after " + step);
        }
    }

    /** Goes to {@code target}, or past it when it has nothing to send (no recipients, headers, chunks, unknown). */
    private void moveTo(Step target) {
        step = target;
        index = 0;
        boolean empty = switch (target) {
            case ENVELOPE_RECIPIENT -> plan.recipients.isEmpty();
            case UNKNOWN -> plan.unknown == null;
            case HEADER -> plan.headers.isEmpty();
            case BODY -> plan.bodyChunks.isEmpty();
            default -> false;
        };
        if (empty) {
            nextStep();
        }
    }

    /** Ends the message early: abort and quit, with upstream's verdict for a message that stopped unfinished. */
    private void stop() {
        if (status.isPass() && step != Step.END_OF_MESSAGE && step != Step.DONE) {
            status = step == Step.ENVELOPE_RECIPIENT && recipientStatus != null ? recipientStatus : Status.ABORT;
        }
        session.abort();
        session.quit().whenComplete((ignored, failure) -> finish());
    }

    private void failed(Throwable failure) {
        error = describe(failure);
        session.close();
        session.closeFuture().whenComplete((ignored, closeFailure) -> finish());
    }

    private void finish() {
        long now = System.nanoTime();
        result.complete(new SessionResult(true, status, replyCode, quarantineReason, error,
                (now - connectedNanos) / 1e9, now - startNanos, message));
    }

    /** Upstream prints a timeout as {@code reading timeout}; other errors by their message. */
    private static String describe(Throwable failure) {
        while (failure instanceof CompletionException && failure.getCause() != null) {
            failure = failure.getCause();
        }
        if (failure instanceof MilterTimeoutException timeout) {
            return timeout.kind().nick() + " timeout";
        }
        return failure.getMessage() == null ? failure.toString() : failure.getMessage();
    }
}
