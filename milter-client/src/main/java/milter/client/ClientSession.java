package milter.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import milter.core.codec.CommandDecoder;
import milter.core.codec.MilterDecoderException;
import milter.core.codec.ReplyEncoder;
import milter.core.log.LogLevel;
import milter.core.log.TaggedLogger;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.ByteBufMessage;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Macros;
import milter.core.protocol.Negotiation;
import milter.core.protocol.NegotiationException;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyCodes;
import milter.core.protocol.ReplyType;

/**
 * The milter-side state machine of one MTA connection: the last inbound handler, after a {@link CommandDecoder}.
 * Commands are handled strictly in order; while the {@link Milter} has not answered one, later commands wait in a
 * bounded queue (reading pauses when it fills, and an MTA that still overruns it is disconnected). Replies are
 * encoded here and written as buffers, so nothing malformed reaches the wire.
 *
 * <p>Everything runs on the channel's event loop; stages completed elsewhere are handed back to it.
 */
final class ClientSession extends ChannelInboundHandlerAdapter {
    /** Queued commands at which reading from the MTA pauses. */
    static final int QUEUE_HIGH_WATER = 64;
    /** Queued commands at which reading resumes. */
    static final int QUEUE_LOW_WATER = 16;
    /** Queued commands beyond which the MTA is considered broken and disconnected. */
    static final int MAX_QUEUED_COMMANDS = 65536;

    private final long sessionId;
    private final MilterFactory factory;
    private final IllegalCommandPolicy illegalCommandPolicy;
    private final long idleTimeoutMillis;
    private final Context context = new Context();
    private final Macros macros = new Macros();
    private final ArrayDeque<Command> queue = new ArrayDeque<>();

    private Channel channel;
    private Milter milter;
    private NegotiationPolicy negotiationPolicy = NegotiationPolicy.LIBMILTER;
    private Option offer;
    private Option option;
    private int protocol;
    private int actions;
    private SessionState state = SessionState.INIT;
    private boolean inMessage;
    private boolean busy;
    private boolean draining;
    private boolean readPaused;
    private boolean writePaused;
    private boolean endOfMessageActive;
    private boolean quitting;
    private boolean finished;
    /** The command a milter stage is working on; its buffer is ours to release when the stage completes. */
    private Command inFlight;
    /** An in-flight command whose buffer was released because the connection ended first. */
    private Command releasedAtFinish;

    ClientSession(long sessionId, MilterFactory factory, IllegalCommandPolicy illegalCommandPolicy,
            long idleTimeoutMillis) {
        this.sessionId = sessionId;
        this.factory = factory;
        this.illegalCommandPolicy = illegalCommandPolicy;
        this.idleTimeoutMillis = idleTimeoutMillis;
    }

    ClientContext context() {
        return context;
    }

    // ------------------------------------------------------------------ channel events

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        channel = ctx.channel();
        debug("[client][session][start]", () -> "<" + channel.remoteAddress() + ">");
        try {
            milter = factory.create(context);
            if (milter == null) {
                throw new IllegalStateException("milter factory returned null");
            }
            negotiationPolicy = milter.negotiationPolicy();
        } catch (RuntimeException e) {
            TaggedLogger.error(sessionId, "[client][error][milter][create]", "failed to create milter: " + e);
            milter = null;
            ctx.close();
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof Command command) || finished || quitting || milter == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (queue.size() >= MAX_QUEUED_COMMANDS) {
            ReferenceCountUtil.release(msg);
            TaggedLogger.error(sessionId, "[client][error][queue][overflow]", "the MTA sent more than "
                    + MAX_QUEUED_COMMANDS + " commands without waiting for replies: closing");
            closeConnection();
            return;
        }
        queue.add(command);
        if (queue.size() >= QUEUE_HIGH_WATER && !readPaused) {
            readPaused = true;
            channel.config().setAutoRead(false);
        }
        drain();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        finish();
        super.channelInactive(ctx);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            // Only the MTA's silence counts: while the milter works on a command the MTA is waiting for us.
            if (!busy && !finished) {
                TaggedLogger.warning(sessionId, "[client][timeout]", "no command from the MTA in "
                        + MilterClient.formatSeconds(idleTimeoutMillis) + " seconds: closing the connection");
                closeConnection();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof MilterDecoderException decode) {
            TaggedLogger.error(sessionId, "[agent][error][decode]",
                    "Decode error: " + decode.reason().nick() + ": " + decode.getMessage());
        } else if (cause instanceof DecoderException) {
            TaggedLogger.error(sessionId, "[agent][error][decode]", "Decode error: decode: " + cause.getMessage());
        } else if (cause instanceof IOException) {
            TaggedLogger.error(sessionId, "[reader][error][read]", String.valueOf(cause.getMessage()));
        } else {
            TaggedLogger.error(sessionId, "[client][error]", "unexpected error: " + cause);
        }
        closeConnection();
    }

    // ------------------------------------------------------------------ command processing

    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            Command command;
            while (!busy && !finished && !quitting && !writePaused && (command = queue.poll()) != null) {
                process(command);
            }
        } finally {
            draining = false;
        }
        if (readPaused && queue.size() <= QUEUE_LOW_WATER && !finished && !quitting) {
            readPaused = false;
            if (!writePaused) {
                channel.config().setAutoRead(true);
            }
        }
    }

    /**
     * Replies pile up in memory when the MTA does not read them. Past the high water mark the connection pauses:
     * no more commands are read or processed (each would add a reply) until the MTA has read enough. An MTA that
     * never reads is then as silent as one that never writes, and the idle timeout closes it.
     */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        boolean writable = ctx.channel().isWritable();
        if (!writable && !writePaused && !finished) {
            writePaused = true;
            channel.config().setAutoRead(false);
            TaggedLogger.info(sessionId, "[client][write][pause]", "the MTA does not read its replies: "
                    + pendingBytes() + " bytes wait to be written; reading paused");
        } else if (writable && writePaused) {
            writePaused = false;
            TaggedLogger.info(sessionId, "[client][write][resume]", "the MTA reads again: "
                    + pendingBytes() + " bytes wait to be written; reading resumed");
            if (!readPaused && !finished && !quitting) {
                channel.config().setAutoRead(true);
            }
            drain();
        }
        super.channelWritabilityChanged(ctx);
    }

    private long pendingBytes() {
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    private void process(Command command) {
        if (TaggedLogger.isEnabled(LogLevel.DEBUG)) {
            TaggedLogger.debug(sessionId, "[client][receive][" + command.type().nick() + "]", describe(command));
        }
        switch (command.type()) {
            case NEGOTIATE:
                if (state != SessionState.INIT) {
                    illegal(command, true);
                } else {
                    negotiate(((Command.Negotiate) command).option());
                }
                break;
            case DEFINE_MACRO:
                if (state == SessionState.INIT) {
                    illegal(command, true);
                } else {
                    Command.DefineMacro define = (Command.DefineMacro) command;
                    macros.define(define.stage(), define.macros());
                }
                break;
            case ABORT:
                if (state == SessionState.INIT) {
                    illegal(command, true);
                } else if (inMessage) {
                    abortMessage();
                } else {
                    debug("[client][abort][ignored]", () -> "not in a message: <" + state.nick() + ">");
                }
                break;
            case QUIT:
                quit();
                break;
            case QUIT_NEW_CONNECTION:
                if (state == SessionState.INIT) {
                    illegal(command, true);
                } else {
                    quitNewConnection();
                }
                break;
            default:
                stage(command);
        }
    }

    private void stage(Command command) {
        CommandType type = command.type();
        SessionState target = SessionState.of(type);
        if (state == SessionState.INIT) {
            illegal(command, true);
            return;
        }
        if (!state.reaches(target, protocol)) {
            // libmilter's recovery: a command that can follow HELO ends whatever message was open and starts over.
            boolean recoverable = state.ordinal() >= SessionState.CONNECT.ordinal()
                    && state != SessionState.QUIT_NEW_CONNECTION && SessionState.HELO.reaches(target, protocol);
            if (!recoverable) {
                illegal(command, false);
                return;
            }
            debug("[client][state][reset]", () -> "<" + type.nick() + "> after <" + state.nick()
                    + ">: starting over from helo" + (inMessage ? " (message aborted)" : ""));
            state = SessionState.HELO;
            if (inMessage) {
                queue.addFirst(command);
                abortMessage();
                return;
            }
        }
        state = target;
        if (type == CommandType.ENVELOPE_FROM) {
            inMessage = true;
        }
        int noEvent = ProtocolFlags.noEventFlag(type);
        if ((protocol & noEvent) != 0) {
            // The MTA sends an event it agreed to skip: the milter asked not to see it, so it does not.
            if (TaggedLogger.isEnabled(LogLevel.DEBUG)) {
                debug("[client][skip][" + type.nick() + "]", "the MTA sent an event negotiated as skipped");
            }
            completeStage(command, Reply.Continue.INSTANCE, null);
            return;
        }
        busy = true;
        inFlight = command;
        if (type == CommandType.END_OF_MESSAGE) {
            endOfMessageActive = true;
        }
        CompletionStage<Reply> result;
        try {
            result = invoke(command);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result == null) {
            result = Milter.continueReply();
        }
        if (result instanceof CompletableFuture<Reply> done && done.isDone() && !done.isCompletedExceptionally()) {
            // Answered at once (a stage the milter completes synchronously): no callback objects needed.
            completeStage(command, done.getNow(null), null);
            return;
        }
        result.whenComplete((reply, error) -> {
            if (channel.eventLoop().inEventLoop()) {
                completeStage(command, reply, error);
            } else {
                channel.eventLoop().execute(() -> completeStage(command, reply, error));
            }
        });
    }

    private CompletionStage<Reply> invoke(Command command) {
        switch (command.type()) {
            case CONNECT:
                return milter.connect(context, (Command.Connect) command);
            case HELO:
                return milter.helo(context, (Command.Helo) command);
            case ENVELOPE_FROM:
                return milter.envelopeFrom(context, (Command.EnvelopeFrom) command);
            case ENVELOPE_RECIPIENT:
                return milter.envelopeRecipient(context, (Command.EnvelopeRecipient) command);
            case DATA:
                return milter.data(context);
            case HEADER:
                return milter.header(context, (Command.Header) command);
            case END_OF_HEADER:
                return milter.endOfHeader(context);
            case BODY:
                return milter.body(context, (Command.Body) command);
            case END_OF_MESSAGE:
                return milter.endOfMessage(context, (Command.EndOfMessage) command);
            case UNKNOWN:
                return milter.unknown(context, (Command.Unknown) command);
            default:
                throw new IllegalStateException("not a stage: " + command.type());
        }
    }

    private void completeStage(Command command, Reply reply, Throwable error) {
        CommandType type = command.type();
        try {
            if (type == CommandType.END_OF_MESSAGE) {
                endOfMessageActive = false;
            }
            if (finished) {
                return;
            }
            Reply decision;
            if (error != null) {
                Throwable cause = unwrap(error);
                TaggedLogger.error(sessionId, "[client][error][callback][" + type.nick() + "]",
                        "milter failed: " + cause + ": answering temporary-failure");
                decision = Reply.TemporaryFailure.INSTANCE;
            } else {
                decision = checkFinal(type, reply);
            }
            int noReply = ProtocolFlags.noReplyFlag(type);
            if (noReply != 0 && (protocol & noReply) != 0) {
                if (decision.type() != ReplyType.CONTINUE) {
                    Reply dropped = decision;
                    TaggedLogger.warning(sessionId, "[client][reply][no-reply][" + type.nick() + "]",
                            "the MTA does not expect a reply here: <" + dropped.type().nick() + "> dropped");
                }
                decision = Reply.Continue.INSTANCE;
            } else {
                if (TaggedLogger.isEnabled(LogLevel.DEBUG)) {
                    TaggedLogger.debug(sessionId, "[client][reply][" + type.nick() + "][" + decision.type().nick()
                            + "]", decision instanceof Reply.ReplyCode code ? "<" + code.reply() + ">" : "");
                }
                String tags = type == CommandType.END_OF_MESSAGE
                        ? "[client][error][reply-on-end-of-message][flush]" : "[client][error][write]";
                write(decision, true, tags, tags);
            }
            applyDecision(type, decision);
        } finally {
            if (inFlight == command) {
                inFlight = null;
            }
            if (releasedAtFinish == command) {
                releasedAtFinish = null;
            } else if (command instanceof ByteBufMessage data) {
                ReferenceCountUtil.release(data);
            }
            busy = false;
            drain();
        }
    }

    /** Turns whatever the milter returned into a final reply the MTA may receive for this command. */
    private Reply checkFinal(CommandType type, Reply reply) {
        if (reply == null) {
            return Reply.Continue.INSTANCE;
        }
        switch (reply.type()) {
            case CONTINUE:
            case ACCEPT:
            case REJECT:
            case TEMPORARY_FAILURE:
            case DISCARD:
            case CONNECTION_FAILURE:
            case SHUTDOWN:
                return reply;
            case SKIP:
                if (type == CommandType.BODY && (protocol & ProtocolFlags.SKIP) != 0) {
                    return reply;
                }
                TaggedLogger.warning(sessionId, "[client][reply][skip][invalid]", "skip is allowed only for body"
                        + " with skip negotiated; answering continue to <" + type.nick() + ">");
                return Reply.Continue.INSTANCE;
            case REPLY_CODE: {
                String text = ((Reply.ReplyCode) reply).reply();
                try {
                    ReplyCodes.validate(text);
                    return reply;
                } catch (IllegalArgumentException e) {
                    Reply plain = text.startsWith("5") ? Reply.Reject.INSTANCE : Reply.TemporaryFailure.INSTANCE;
                    TaggedLogger.error(sessionId, "[client][error][reply-code]", "invalid reply code for <"
                            + type.nick() + ">: " + e.getMessage() + ": answering " + plain.type().nick());
                    return plain;
                }
            }
            default:
                if (reply instanceof ByteBufMessage data) {
                    ReferenceCountUtil.release(data);
                }
                TaggedLogger.error(sessionId, "[client][error][reply][invalid]", "<" + reply.type().nick()
                        + "> is not a final reply for <" + type.nick() + ">: answering temporary-failure");
                return Reply.TemporaryFailure.INSTANCE;
        }
    }

    /** Moves the state on after a final reply, as libmilter does. */
    private void applyDecision(CommandType type, Reply decision) {
        ReplyType kind = decision.type();
        boolean goOn = kind == ReplyType.CONTINUE || kind == ReplyType.SKIP;
        switch (type) {
            case CONNECT:
            case HELO:
                if (!goOn) {
                    state = SessionState.HELO;
                }
                break;
            case ENVELOPE_FROM:
            case DATA:
            case HEADER:
            case END_OF_HEADER:
            case BODY:
                if (!goOn) {
                    endMessage();
                }
                break;
            case ENVELOPE_RECIPIENT:
                // reject and temporary failure concern this recipient only.
                if (kind == ReplyType.ACCEPT || kind == ReplyType.DISCARD) {
                    endMessage();
                }
                break;
            case END_OF_MESSAGE:
                endMessage();
                state = SessionState.END_OF_MESSAGE;
                break;
            default:
                break;
        }
    }

    private void endMessage() {
        inMessage = false;
        macros.clearMessage();
        state = SessionState.HELO;
    }

    private void negotiate(Option mtaOffer) {
        offer = mtaOffer;
        busy = true;
        CompletionStage<Option> result;
        try {
            result = milter.negotiate(context, mtaOffer);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result == null) {
            result = CompletableFuture.completedFuture(null);
        }
        result.whenComplete((wanted, error) -> onLoop(() -> completeNegotiation(wanted, error)));
    }

    private void completeNegotiation(Option wanted, Throwable error) {
        try {
            if (finished) {
                return;
            }
            if (error != null || wanted == null) {
                TaggedLogger.error(sessionId, "[client][error][negotiate]", "milter failed to negotiate: "
                        + (error == null ? "no option" : unwrap(error)) + ": closing");
                closeConnection();
                return;
            }
            Option reply;
            try {
                reply = negotiationPolicy == NegotiationPolicy.EXACT ? wanted : Negotiation.milterReply(offer, wanted);
            } catch (NegotiationException e) {
                TaggedLogger.error(sessionId, "[client][error][negotiate]", e.getMessage() + ": offer " + offer
                        + ": wanted " + wanted + ": closing");
                closeConnection();
                return;
            }
            option = effective(offer, reply);
            protocol = option.protocol();
            actions = option.actions();
            CommandDecoder decoder = channel.pipeline().get(CommandDecoder.class);
            if (decoder != null) {
                decoder.setMaxPayload(ProtocolFlags.maxDataSize(protocol));
            }
            state = SessionState.NEGOTIATED;
            Option sent = reply;
            debug("[client][reply][negotiate]", () -> sent.toString());
            if (!write(new Reply.Negotiate(reply), true, "[client][error][negotiate]", "[client][error][write]")) {
                closeConnection();
            }
        } finally {
            busy = false;
            drain();
        }
    }

    /**
     * What the MTA will hold us to: the reply masked with the offer (v1 defaults for zero words), plus the events
     * an old protocol version does not have.
     */
    static Option effective(Option offer, Option reply) {
        int offeredActions = offer.actions() == 0 ? ActionFlags.ADD_HEADERS | ActionFlags.CHANGE_BODY
                | ActionFlags.ADD_ENVELOPE_RECIPIENT | ActionFlags.DELETE_ENVELOPE_RECIPIENT : offer.actions();
        int offeredProtocol = offer.protocol() == 0 ? 0x3F : offer.protocol();
        int protocol = reply.protocol() & offeredProtocol;
        if (reply.version() <= 2) {
            protocol |= ProtocolFlags.NO_UNKNOWN;
        }
        if (reply.version() <= 3) {
            protocol |= ProtocolFlags.NO_DATA;
        }
        return new Option(reply.version(), reply.actions() & offeredActions, protocol, reply.macroRequests());
    }

    private void abortMessage() {
        inMessage = false;
        macros.clearMessage();
        state = SessionState.HELO;
        busy = true;
        CompletionStage<Void> result;
        try {
            result = milter.abort(context);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result == null) {
            result = Milter.done();
        }
        result.whenComplete((ignored, error) -> onLoop(() -> {
            if (error != null) {
                TaggedLogger.error(sessionId, "[client][error][callback][abort]", "milter failed: " + unwrap(error));
            }
            busy = false;
            drain();
        }));
    }

    private void quit() {
        quitting = true;
        busy = true;
        CompletionStage<Void> result;
        try {
            result = milter.quit(context);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result == null) {
            result = Milter.done();
        }
        result.whenComplete((ignored, error) -> onLoop(() -> {
            if (error != null) {
                TaggedLogger.error(sessionId, "[client][error][callback][quit]", "milter failed: " + unwrap(error));
            }
            state = SessionState.QUIT;
            macros.clear();
            busy = false;
            closeConnection();
        }));
    }

    private void quitNewConnection() {
        busy = true;
        CompletionStage<Void> result;
        try {
            result = milter.quitNewConnection(context);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result == null) {
            result = Milter.done();
        }
        result.whenComplete((ignored, error) -> onLoop(() -> {
            if (error != null) {
                TaggedLogger.error(sessionId, "[client][error][callback][quit-new-connection]",
                        "milter failed: " + unwrap(error));
            }
            macros.clear();
            inMessage = false;
            state = SessionState.QUIT_NEW_CONNECTION;
            busy = false;
            drain();
        }));
    }

    /** A command the current state does not allow; see {@link IllegalCommandPolicy}. */
    private void illegal(Command command, boolean mustClose) {
        CommandType type = command.type();
        String expected = state == SessionState.INIT ? "negotiate" : state.expected(protocol);
        boolean close = mustClose || illegalCommandPolicy == IllegalCommandPolicy.CLOSE
                || type == CommandType.NEGOTIATE;
        TaggedLogger.error(sessionId, "[client][error][" + type.nick() + "][state][invalid][" + state.nick() + "]",
                "<" + type.nick() + "> is not allowed in <" + state.nick() + "> state; expected one of ["
                        + expected + "]: " + (close ? "closing the connection" : "answering continue"));
        ReferenceCountUtil.release(command);
        if (close) {
            closeConnection();
            return;
        }
        int noReply = ProtocolFlags.noReplyFlag(type);
        boolean expectsReply = type != CommandType.DEFINE_MACRO && type != CommandType.ABORT
                && type != CommandType.QUIT && type != CommandType.QUIT_NEW_CONNECTION;
        if (expectsReply && (noReply == 0 || (protocol & noReply) == 0)) {
            write(Reply.Continue.INSTANCE, true, "[client][error][write]", "[client][error][write]");
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Encodes and writes one packet. Returns false when nothing was written: the connection is gone, or the packet
     * cannot be encoded (logged with {@code encodeErrorTags}). A later write failure is logged with
     * {@code writeErrorTags} and closes the connection.
     */
    private boolean write(Reply reply, boolean flush, String encodeErrorTags, String writeErrorTags) {
        ReplyType type = reply.type();
        if (channel == null || !channel.isActive()) {
            ReferenceCountUtil.release(reply);
            debug("[client][write][skip]", () -> "connection closed; <" + type.nick() + "> not sent");
            return false;
        }
        ByteBuf packet;
        try {
            packet = encode(reply);
        } catch (RuntimeException e) {
            TaggedLogger.error(sessionId, encodeErrorTags, "cannot encode <" + type.nick() + ">: " + e.getMessage());
            return false;
        } finally {
            ReferenceCountUtil.release(reply);
        }
        ChannelFuture written = flush ? channel.writeAndFlush(packet) : channel.write(packet);
        if (!written.isDone() || !written.isSuccess()) {
            // Only a write that is still queued (or failed) needs watching; nearly all are written at once.
            written.addListener((ChannelFutureListener) future -> {
                if (!future.isSuccess()) {
                    TaggedLogger.error(sessionId, writeErrorTags, "failed to write <" + type.nick() + ">: "
                            + future.cause());
                    future.channel().close();
                }
            });
        }
        return true;
    }

    private ByteBuf encode(Reply reply) {
        List<Object> out = new ArrayList<>(2);
        try {
            ReplyEncoder.encode(channel.alloc(), reply, out);
        } catch (RuntimeException e) {
            out.forEach(ReferenceCountUtil::release);
            throw e;
        }
        if (out.size() == 1) {
            return (ByteBuf) out.get(0);
        }
        CompositeByteBuf composite = channel.alloc().compositeBuffer(out.size());
        for (Object part : out) {
            composite.addComponent(true, (ByteBuf) part);
        }
        return composite;
    }

    private boolean send(Reply reply) {
        ReplyType type = reply.type();
        String refusal = null;
        if (finished || !endOfMessageActive) {
            refusal = "only allowed while end of message is processed: <" + state.nick() + ">";
        } else if (!type.isModification() && type != ReplyType.PROGRESS) {
            refusal = "not a modification or progress";
        } else if (type.requiredAction() != 0 && (actions & type.requiredAction()) == 0) {
            refusal = "needs the <" + ActionFlags.toString(type.requiredAction())
                    + "> action but the MTA granted <" + ActionFlags.toString(actions) + ">";
        }
        if (refusal != null) {
            TaggedLogger.error(sessionId, "[client][error][send][" + type.nick() + "]", refusal);
            ReferenceCountUtil.release(reply);
            return false;
        }
        if (TaggedLogger.isEnabled(LogLevel.DEBUG)) {
            TaggedLogger.debug(sessionId, "[client][send][" + type.nick() + "]", describe(reply));
        }
        boolean progress = type == ReplyType.PROGRESS;
        if (!write(reply, progress, "[client][error][send][" + type.nick() + "]",
                progress ? "[client][error][write]" : "[client][error][buffered-packets][write]")) {
            return false;
        }
        if (type == ReplyType.QUARANTINE) {
            TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[reply][end-of-message][quarantine](" + sessionId + ")",
                    "");
        }
        return true;
    }

    // ------------------------------------------------------------------ closing

    private void closeConnection() {
        if (channel != null) {
            channel.close();
        }
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        Command queued;
        while ((queued = queue.poll()) != null) {
            ReferenceCountUtil.release(queued);
        }
        if (inFlight instanceof ByteBufMessage data) {
            // A stage that never completes must not keep the body chunk alive after the connection is gone.
            releasedAtFinish = inFlight;
            ReferenceCountUtil.release(data);
        }
        inFlight = null;
        if (milter != null) {
            try {
                milter.closed(context);
            } catch (RuntimeException e) {
                TaggedLogger.error(sessionId, "[client][error][callback][closed]", "milter failed: " + e);
            }
        }
        debug("[client][session][end]", () -> "<" + state.nick() + ">");
    }

    // ------------------------------------------------------------------ helpers

    private void onLoop(Runnable task) {
        EventLoop loop = channel.eventLoop();
        if (loop.inEventLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof java.util.concurrent.CompletionException
                || cause instanceof java.util.concurrent.ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private void debug(String tags, String message) {
        TaggedLogger.debug(sessionId, tags, message);
    }

    private void debug(String tags, Supplier<String> message) {
        TaggedLogger.debug(sessionId, tags, message);
    }

    private static String describe(Command command) {
        if (command instanceof Command.Body body) {
            return "<" + body.content().readableBytes() + " bytes>";
        }
        if (command instanceof Command.EndOfMessage end) {
            return "<" + end.content().readableBytes() + " bytes>";
        }
        return command.toString();
    }

    private static String describe(Reply reply) {
        if (reply instanceof Reply.ReplaceBody body) {
            return "<" + body.content().readableBytes() + " bytes>";
        }
        return reply.toString();
    }

    /** The context handed to the milter. */
    private final class Context implements ClientContext {
        @Override
        public long sessionId() {
            return sessionId;
        }

        @Override
        public Channel channel() {
            return channel;
        }

        @Override
        public EventLoop eventLoop() {
            return channel.eventLoop();
        }

        @Override
        public Option offer() {
            return offer;
        }

        @Override
        public Option option() {
            return option;
        }

        @Override
        public Macros macros() {
            return macros;
        }

        @Override
        public boolean send(Reply reply) {
            if (channel.eventLoop().inEventLoop()) {
                return ClientSession.this.send(reply);
            }
            channel.eventLoop().execute(() -> ClientSession.this.send(reply));
            return true;
        }

        @Override
        public void close() {
            closeConnection();
        }

        @Override
        public SocketAddress remoteAddress() {
            return channel.remoteAddress();
        }

        @Override
        public SocketAddress localAddress() {
            return channel.localAddress();
        }

        @Override
        public String toString() {
            return "ClientContext[" + sessionId + "]";
        }
    }
}
