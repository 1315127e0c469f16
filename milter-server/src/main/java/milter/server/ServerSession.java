package milter.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import milter.core.codec.CommandEncoder;
import milter.core.codec.MilterDecoderException;
import milter.core.codec.ReplyDecoder;
import milter.core.log.LogLevel;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Macros;
import milter.core.protocol.Negotiation;
import milter.core.protocol.NegotiationException;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.ReplyType;
import milter.core.protocol.Status;

/**
 * The MTA side of one connection to a milter: connects, negotiates, sends commands and hands back each reply as
 * a {@link CompletionStage}.
 *
 * <p>Threading: everything happens on the {@link EventLoop} given to {@link #connect}; the manager puts the MTA's
 * channel and all its children on one loop, so nothing here is locked. Methods may be called from any thread
 * (calls from elsewhere are handed to the loop), and every returned stage completes on the loop, so dependent
 * actions registered before completion run there too.
 *
 * <p>Rules the session enforces: one reply-expecting command at a time (a second one fails with
 * {@link IllegalStateException}); commands whose no-event flag was negotiated (or that the milter's version does
 * not know) are not sent and complete at once with continue (body: skip); commands whose no-reply flag was
 * negotiated complete with continue once written; body chunks above 65535 bytes go out as several packets, one
 * after the other, and the reply to the last one counts; after a skip reply further body chunks complete with
 * skip without being written, until the message ends.
 *
 * <p>Failures (timeouts, protocol violations, decode errors, write errors, the milter closing while a reply is
 * due) complete the outstanding stage exceptionally with a {@link MilterServerException} subtype and close the
 * connection; {@link #closeFuture()} tells the owner in every case.
 *
 * <p>Buffers: a {@link Command.Body} or end-of-message data handed to the session is owned by it from then on,
 * whatever happens; replace-body replies given to an end-of-message listener are released when the listener
 * returns (retain to keep).
 *
 * <p>Returned stages are the session's own futures: they fail with the typed exception itself (not wrapped),
 * and callers must not complete them.
 */
public final class ServerSession {
    /** Largest body chunk in one packet. */
    public static final int MAX_BODY_CHUNK = CommandEncoder.MAX_BODY_CHUNK;

    private final ServerOptions options;
    private final EventLoop loop;
    private final long tag;
    private final String name;
    private final CompletableFuture<ServerSession> connected = new CompletableFuture<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    private Channel channel;
    private ReplyDecoder decoder;
    private ScheduledFuture<?> connectTimer;
    private ScheduledFuture<?> writeTimer;
    /**
     * The reply timer is one scheduled check per session, not one timer per command: arming it only moves
     * {@link #replyDeadline}; a check that finds the deadline moved on schedules itself again for the rest.
     */
    private ScheduledFuture<?> replyTimer;
    /** When the scheduled reply check runs (nanoTime). */
    private long replyCheckAt;
    /** When the awaited reply is due (nanoTime); meaningful while {@link #replyAwaited} is set. */
    private long replyDeadline;
    /** The command whose reply the timer guards, or null when the timer is disarmed. */
    private Pending replyAwaited;
    private ScheduledFuture<?> quitTimer;
    private int writesInFlight;
    private boolean flushScheduled;
    private boolean unflushed;
    /** A macro packet written but not flushed yet, and its caller's future. */
    private ChannelFuture unflushedMacros;
    private CompletableFuture<Void> unflushedMacrosFuture;
    private final Runnable flushTask = this::flushNow;

    private Option offer;
    private Option option;
    private CompletableFuture<Option> negotiation;
    private Pending pending;
    private ServerState state = ServerState.START;
    private boolean quitted;
    private boolean skipBody;
    private MilterServerException failure;

    private long connectedAt;
    private long waitingNanos;
    private Status lastStatus = Status.NOT_CHANGE;

    private ServerSession(ServerOptions options, EventLoop loop) {
        this.options = options;
        this.loop = loop;
        this.tag = options.tag();
        this.name = "[" + options.name() + "] ";
    }

    /**
     * Connects to the milter of {@code options.spec()} with a channel registered on {@code loop}. The stage fails
     * with {@link MilterConnectException} ({@code [server][error][connect]} logged) or, when the connection
     * timeout expires first, {@link MilterTimeoutException} of kind connection ({@code [server][timeout][connection]}).
     * A host name in the spec is resolved by Netty's default resolver on the loop.
     */
    public static CompletionStage<ServerSession> connect(ServerOptions options, EventLoop loop, Transport transport) {
        ServerSession session = new ServerSession(options, loop);
        session.onLoop(() -> session.startConnect(transport));
        return session.connected;
    }

    // ---------------------------------------------------------------- public API

    /**
     * Sends {@code O} and completes with the effective option: version at most the offer's, actions a subset
     * (else the stage fails with {@link MilterProtocolException} and {@code [server][error]} is logged), protocol
     * flags masked with the offer (a warning names any dropped bits), no-data / no-unknown added for milters of
     * version 3 / 2 and below, and the milter's macro lists.
     */
    public CompletionStage<Option> negotiate(Option offer) {
        CompletableFuture<Option> future = new CompletableFuture<>();
        onLoop(() -> doNegotiate(offer, future), future, null);
        return future;
    }

    /**
     * Sends a reply-expecting command (connect, helo, envelope-from, envelope-recipient, data, header,
     * end-of-header, body, unknown, end-of-message) and completes with its final reply; see the class comment
     * for skipped and no-reply commands. End of message sent this way drops modifications; use
     * {@link #endOfMessage} to see them.
     */
    public CompletionStage<Reply> send(Command command) {
        CompletableFuture<Reply> future = new CompletableFuture<>();
        if (loop.inEventLoop()) {
            doSend(command, null, future);
        } else {
            onLoop(() -> doSend(command, null, future), future, command);
        }
        return future;
    }

    /**
     * Sends {@code E} (with {@code data} as a last body chunk when it is not empty; null means none) and completes
     * with the final reply. Modifications and progress replies are given to {@code onModificationOrProgress} as
     * they arrive (it may be null); a progress reply also restarts the end-of-message timer. A modification whose
     * action was not negotiated fails the stage with {@link MilterProtocolException}.
     */
    public CompletionStage<Reply> endOfMessage(ByteBuf data, Consumer<Reply> onModificationOrProgress) {
        Command.EndOfMessage command = new Command.EndOfMessage(data == null ? Unpooled.EMPTY_BUFFER : data);
        CompletableFuture<Reply> future = new CompletableFuture<>();
        if (loop.inEventLoop()) {
            doSend(command, onModificationOrProgress, future);
        } else {
            onLoop(() -> doSend(command, onModificationOrProgress, future), future, command);
        }
        return future;
    }

    /**
     * Queues a {@code D} packet; it is flushed with the next command (or at the end of the current event-loop
     * task). Macros are filtered to the list the milter requested for that stage, if it sent one; nothing is sent
     * when the stage's command is skipped or the filter leaves nothing. Completes once written.
     */
    public CompletionStage<Void> sendMacros(Command.DefineMacro macros) {
        CompletableFuture<Void> future = new CompletableFuture<>();
        if (loop.inEventLoop()) {
            doSendMacros(macros, future);
        } else {
            onLoop(() -> doSendMacros(macros, future), future, null);
        }
        return future;
    }

    /** Sends {@code A} (allowed at any time after negotiation; no reply). Completes once written. */
    public CompletionStage<Void> abort() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        onLoop(() -> doAbort(future), future, null);
        return future;
    }

    /**
     * Sends {@code Q}, half-closes and completes when the connection is closed (by the milter, or by us when the
     * reading timeout expires first). A reply still outstanding fails with {@link MilterClosedException}; replies
     * arriving afterwards are logged as {@code [server][reply][quitted][STATE][REPLY]} warnings and ignored.
     */
    public CompletionStage<Void> quit() {
        onLoop(this::doQuit);
        return closed;
    }

    /**
     * Sends {@code K} (version 6 milters only): the SMTP session ends but the connection stays, ready for the
     * next {@code C} without renegotiation. Completes once written.
     */
    public CompletionStage<Void> quitNewConnection() {
        CompletableFuture<Void> future = new CompletableFuture<>();
        onLoop(() -> doQuitNewConnection(future), future, null);
        return future;
    }

    /** Closes the connection at once; an outstanding reply fails with {@link MilterClosedException}. */
    public void close() {
        onLoop(() -> {
            if (failure == null && !quitted) {
                fail(new MilterClosedException(state.nick(), "connection closed by the MTA side"));
            } else if (channel != null) {
                channel.close();
            }
        });
    }

    /** Completes (normally) when the connection is closed, for whatever reason; see {@link #failure()}. */
    public CompletionStage<Void> closeFuture() {
        return closed;
    }

    /** The error that ended the session, or null while it is healthy or after a clean quit. Loop only. */
    public MilterServerException failure() {
        return failure;
    }

    public ServerOptions options() {
        return options;
    }

    /** The session id used in log lines. */
    public long tag() {
        return tag;
    }

    /** The event loop the session lives on. */
    public EventLoop eventLoop() {
        return loop;
    }

    /** The negotiated option, or null before negotiation completed. Loop only. */
    public Option option() {
        return option;
    }

    /** The state of the last command written (the "last state" of statistics). Loop only. */
    public ServerState state() {
        return state;
    }

    /** The status of the last final reply received, not-change before any. Loop only. */
    public Status lastStatus() {
        return lastStatus;
    }

    /** Time spent waiting for replies so far (from writing each command to its final reply). Loop only. */
    public Duration waitingTime() {
        return Duration.ofNanos(waitingNanos);
    }

    /** Time since the connection was established, or zero before. */
    public Duration connectedTime() {
        return connectedAt == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - connectedAt);
    }

    /** Whether a reply-expecting command is outstanding. Loop only. */
    public boolean isProcessing() {
        return pending != null;
    }

    /** Whether quit was sent. Loop only. */
    public boolean isQuitted() {
        return quitted;
    }

    /** Whether a skip reply (or a negotiated no-body) means the rest of this message's body is not wanted. */
    public boolean isSkippingBody() {
        return skipBody || (option != null && option.has(ProtocolFlags.NO_BODY));
    }

    @Override
    public String toString() {
        return "ServerSession[" + options.name() + ", tag=" + tag + ", state=" + state.nick() + "]";
    }

    // ---------------------------------------------------------------- connecting

    private void startConnect(Transport transport) {
        ConnectionSpec spec = options.spec();
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(transport.channelClass(spec))
                // Our own timer enforces the connection timeout; Netty's 30 s default would cut it short.
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 0)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        decoder = new ReplyDecoder();
                        ch.pipeline().addLast("decoder", decoder)
                                .addLast("encoder", CommandEncoder.INSTANCE)
                                .addLast("session", new Inbound());
                    }
                });
        if (spec instanceof ConnectionSpec.Inet) {
            bootstrap.option(ChannelOption.TCP_NODELAY, true);
        }
        SocketAddress address;
        try {
            address = socketAddress(spec, transport);
        } catch (RuntimeException e) {
            connectFailed(e);
            return;
        }
        ChannelFuture future = bootstrap.connect(address);
        channel = future.channel();
        channel.closeFuture().addListener(f -> onClosed());
        connectTimer = loop.schedule(this::connectTimedOut, options.connectionTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
        future.addListener(f -> {
            cancel(connectTimer);
            connectTimer = null;
            if (connected.isDone()) {
                return;
            }
            if (f.isSuccess()) {
                connectedAt = System.nanoTime();
                debug("[server][established]", () -> "connected to " + spec);
                connected.complete(this);
            } else {
                connectFailed(f.cause());
            }
        });
    }

    private static SocketAddress socketAddress(ConnectionSpec spec, Transport transport) {
        if (spec instanceof ConnectionSpec.Inet inet && inet.host() != null && !inet.literal()) {
            // Leave name resolution to the bootstrap's resolver instead of blocking here.
            return InetSocketAddress.createUnresolved(inet.host(), inet.port());
        }
        return transport.socketAddress(spec);
    }

    private void connectFailed(Throwable cause) {
        String message = "Failed to connect to " + options.spec() + ": " + reason(cause);
        TaggedLogger.error(tag, "[server][error][connect]", name + message);
        MilterConnectException error = new MilterConnectException(message, cause);
        failure = error;
        connected.completeExceptionally(error);
        if (channel != null) {
            channel.close();
        } else {
            closed.complete(null);
        }
    }

    private void connectTimedOut() {
        connectTimer = null;
        if (connected.isDone()) {
            return;
        }
        TaggedLogger.error(tag, "[server][timeout][connection]", name + "no connection to " + options.spec()
                + " within " + seconds(options.connectionTimeout()) + " seconds");
        MilterTimeoutException error = new MilterTimeoutException(TimeoutKind.CONNECTION, ServerState.START.nick(),
                "connection timeout: no connection to " + options.spec() + " within "
                        + seconds(options.connectionTimeout()) + " seconds");
        failure = error;
        connected.completeExceptionally(error);
        channel.close();
    }

    // ---------------------------------------------------------------- sending

    private void doNegotiate(Option offer, CompletableFuture<Option> future) {
        if (!usable(future)) {
            return;
        }
        if (this.offer != null) {
            future.completeExceptionally(new IllegalStateException("negotiation was already started"));
            return;
        }
        this.offer = offer;
        this.negotiation = future;
        Pending p = new Pending(CommandType.NEGOTIATE, null, null);
        pending = p;
        state = ServerState.NEGOTIATE;
        debug("[server][send][negotiate]", offer::toString);
        track(writeAndFlush(new Command.Negotiate(offer)), () -> armReplyTimer(p), future);
    }

    private void doSend(Command command, Consumer<Reply> listener, CompletableFuture<Reply> future) {
        CommandType type = command.type();
        switch (type) {
            case NEGOTIATE:
            case DEFINE_MACRO:
            case ABORT:
            case QUIT:
            case QUIT_NEW_CONNECTION:
                ReferenceCountUtil.release(command);
                future.completeExceptionally(new IllegalArgumentException(
                        type.nick() + " is not sent with send(); use the method named after it"));
                return;
            default:
                break;
        }
        if (!usable(future) || !checkReady(type, future)) {
            ReferenceCountUtil.release(command);
            return;
        }
        if (type == CommandType.END_OF_MESSAGE
                && ((Command.EndOfMessage) command).content().readableBytes() > MAX_BODY_CHUNK) {
            ReferenceCountUtil.release(command);
            future.completeExceptionally(new IllegalArgumentException(
                    "end-of-message data larger than " + MAX_BODY_CHUNK + " bytes; send it as body chunks"));
            return;
        }
        if (type == CommandType.ENVELOPE_FROM) {
            skipBody = false;
        }
        if (type == CommandType.BODY && skipBody) {
            ReferenceCountUtil.release(command);
            debug("[server][body][skip]", () -> "milter asked to skip the rest of the body");
            future.complete(Reply.Skip.INSTANCE);
            return;
        }
        int noEvent = ProtocolFlags.noEventFlag(type);
        if (noEvent != 0 && option.has(noEvent)) {
            ReferenceCountUtil.release(command);
            if (debugging()) {
                debug("[server][" + type.nick() + "][skip]", () -> "not sent: the milter does not want it");
            }
            future.complete(type == CommandType.BODY ? Reply.Skip.INSTANCE : Reply.Continue.INSTANCE);
            return;
        }
        ServerState next = ServerState.of(type);
        int noReply = ProtocolFlags.noReplyFlag(type);
        if (noReply != 0 && option.has(noReply)) {
            state = next;
            if (debugging()) {
                debug("[server][send][" + type.nick() + "]", () -> describe(command) + " (no reply)");
            }
            track(writeAndFlush(command), () -> future.complete(Reply.Continue.INSTANCE), future);
            return;
        }
        Pending p = new Pending(type, future, listener);
        pending = p;
        state = next;
        if (debugging()) {
            debug("[server][send][" + type.nick() + "]", () -> describe(command));
        }
        if (command instanceof Command.Body body && body.content().readableBytes() > MAX_BODY_CHUNK) {
            p.body = body;
            p.bodyOffset = body.content().readerIndex();
            writeNextBodyPiece(p);
            return;
        }
        track(writeAndFlush(command), () -> armReplyTimer(p), future);
    }

    /** Sends the next piece of a body larger than one packet; the milter's reply to it decides what follows. */
    private void writeNextBodyPiece(Pending p) {
        ByteBuf content = p.body.content();
        int end = content.writerIndex();
        int length = Math.min(MAX_BODY_CHUNK, end - p.bodyOffset);
        Command.Body piece = new Command.Body(content.retainedSlice(p.bodyOffset, length));
        p.bodyOffset += length;
        if (p.bodyOffset >= end) {
            p.releaseBody();
        }
        track(writeAndFlush(piece), () -> armReplyTimer(p), p.future);
    }

    private void doSendMacros(Command.DefineMacro macros, CompletableFuture<Void> future) {
        if (!usable(future)) {
            return;
        }
        if (option == null) {
            future.completeExceptionally(new IllegalStateException("macros cannot be sent before negotiation"));
            return;
        }
        CommandType stage = macros.stage();
        int noEvent = ProtocolFlags.noEventFlag(stage);
        if ((noEvent != 0 && option.has(noEvent)) || (stage == CommandType.BODY && skipBody)) {
            future.complete(null);
            return;
        }
        Command.DefineMacro filtered = filter(macros);
        if (filtered == null) {
            future.complete(null);
            return;
        }
        if (debugging()) {
            debug("[server][send][" + stage.nick() + "][macros]", () -> filtered.macros().toString());
        }
        ChannelFuture written = channel.write(filtered);
        unflushed = true;
        if (unflushedMacros != null) {
            trackMacros();
        }
        // Tracked once flushed (with the command that follows, normally), when it is most likely written.
        unflushedMacros = written;
        unflushedMacrosFuture = future;
        flushLater();
    }

    private void trackMacros() {
        ChannelFuture written = unflushedMacros;
        CompletableFuture<Void> future = unflushedMacrosFuture;
        unflushedMacros = null;
        unflushedMacrosFuture = null;
        track(written, () -> future.complete(null), future);
    }

    /** The macros the milter asked for at that stage, or all when it asked for no list; null when none remain. */
    private Command.DefineMacro filter(Command.DefineMacro macros) {
        MacroStage stage = MacroStage.forCommand(macros.stage());
        List<String> requested = stage == null ? null : option.macroRequest(stage);
        if (requested == null) {
            return macros.macros().isEmpty() ? null : macros;
        }
        Set<String> wanted = new HashSet<>();
        for (String name : requested) {
            wanted.add(Macros.normalize(name));
        }
        Map<String, String> kept = new LinkedHashMap<>();
        macros.macros().forEach((name, value) -> {
            if (wanted.contains(Macros.normalize(name))) {
                kept.put(name, value);
            }
        });
        return kept.isEmpty() ? null : new Command.DefineMacro(macros.stage(), kept);
    }

    private void doAbort(CompletableFuture<Void> future) {
        if (!usable(future)) {
            return;
        }
        if (option == null) {
            future.completeExceptionally(new IllegalStateException("abort cannot be sent before negotiation"));
            return;
        }
        skipBody = false;
        if (pending != null) {
            // The reply to the command in flight still comes, but no further piece of its body goes out.
            pending.releaseBody();
        }
        state = ServerState.ABORT;
        debug("[server][send][abort]", () -> "");
        track(writeAndFlush(Command.Abort.INSTANCE), () -> future.complete(null), future);
    }

    private void doQuitNewConnection(CompletableFuture<Void> future) {
        if (!usable(future)) {
            return;
        }
        if (option == null || option.version() < 6) {
            future.completeExceptionally(new IllegalStateException(
                    "quit-new-connection needs a negotiated protocol version 6"));
            return;
        }
        if (pending != null) {
            busy(CommandType.QUIT_NEW_CONNECTION, future);
            return;
        }
        skipBody = false;
        state = ServerState.QUIT_NEW_CONNECTION;
        debug("[server][send][quit-new-connection]", () -> "");
        track(writeAndFlush(Command.QuitNewConnection.INSTANCE), () -> future.complete(null), future);
    }

    private void doQuit() {
        if (quitted || failure != null || channel == null || !channel.isActive()) {
            if (channel != null) {
                channel.close();
            }
            return;
        }
        quitted = true;
        stopReplyTimer();
        Pending p = pending;
        pending = null;
        if (p != null) {
            p.releaseBody();
            p.fail(new MilterClosedException(p.state.nick(), "quit before the reply to " + p.state.nick()));
        }
        state = ServerState.QUIT;
        debug("[server][send][quit]", () -> "");
        ChannelFuture written = writeAndFlush(Command.Quit.INSTANCE);
        track(written, this::halfClose, null);
    }

    /** After quit the milter closes its side; we wait for that (bounded by the reading timeout) to read late replies. */
    private void halfClose() {
        if (!channel.isActive()) {
            return;
        }
        if (channel instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
            quitTimer = loop.schedule(() -> {
                quitTimer = null;
                channel.close();
            }, options.readingTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } else {
            channel.close();
        }
    }

    private boolean usable(CompletableFuture<?> future) {
        if (failure != null) {
            future.completeExceptionally(failure);
            return false;
        }
        if (channel == null || !channel.isActive() || quitted) {
            future.completeExceptionally(new MilterClosedException(state.nick(), "the connection to the milter is "
                    + (quitted ? "quitted" : "closed")));
            return false;
        }
        return true;
    }

    private boolean checkReady(CommandType type, CompletableFuture<?> future) {
        if (option == null) {
            future.completeExceptionally(new IllegalStateException(type.nick() + " cannot be sent before negotiation"));
            return false;
        }
        if (pending != null) {
            busy(type, future);
            return false;
        }
        return true;
    }

    private void busy(CommandType type, CompletableFuture<?> future) {
        String message = "previous command has been processing: " + pending.state.nick() + " -> "
                + ServerState.of(type).nick();
        TaggedLogger.error(tag, "[server][error]", name + message);
        future.completeExceptionally(new IllegalStateException(message));
    }

    private ChannelFuture writeAndFlush(Command command) {
        unflushed = false;
        ChannelFuture written = channel.writeAndFlush(command);
        if (unflushedMacros != null) {
            trackMacros();
        }
        return written;
    }

    private void flushLater() {
        if (flushScheduled) {
            return;
        }
        flushScheduled = true;
        loop.execute(flushTask);
    }

    private void flushNow() {
        flushScheduled = false;
        if (unflushed && channel.isActive()) {
            unflushed = false;
            channel.flush();
        }
        if (unflushedMacros != null) {
            trackMacros();
        }
    }

    /**
     * Watches one write: the writing timer runs while any write is in flight; on success {@code onWritten} runs,
     * on failure {@code target} (if any) fails and the session ends.
     */
    private void track(ChannelFuture written, Runnable onWritten, CompletableFuture<?> target) {
        if (written.isDone() && written.isSuccess()) {
            // Written into the socket at once, as nearly every packet is: no timer, no listener.
            onWritten.run();
            return;
        }
        writesInFlight++;
        if (writeTimer == null) {
            armWriteTimer();
        }
        written.addListener(f -> {
            writesInFlight--;
            cancel(writeTimer);
            writeTimer = null;
            if (writesInFlight > 0 && failure == null) {
                armWriteTimer();
            }
            if (f.isSuccess()) {
                onWritten.run();
                return;
            }
            if (failure == null) {
                Throwable cause = f.cause();
                String message = "Failed to write to milter: " + reason(cause);
                TaggedLogger.error(tag, "[server][error][write]", name + message);
                MilterServerException error = cause instanceof IOException
                        ? new MilterClosedException(state.nick(), message, cause)
                        : new MilterServerException(state.nick(), message, cause);
                fail(error);
            }
            if (target != null) {
                target.completeExceptionally(failure);
            }
        });
    }

    // ---------------------------------------------------------------- timers

    private void armWriteTimer() {
        writeTimer = loop.schedule(() -> {
            writeTimer = null;
            debug("[server][timeout][writing]", () -> "");
            fail(new MilterTimeoutException(TimeoutKind.WRITING, state.nick(), "writing timeout: "
                    + state.nick() + " not written within " + seconds(options.writingTimeout()) + " seconds"));
        }, options.writingTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    private void armReplyTimer(Pending p) {
        if (pending != p || p.isDone()) {
            return;
        }
        boolean endOfMessage = p.command == CommandType.END_OF_MESSAGE;
        Duration timeout = endOfMessage ? options.endOfMessageTimeout() : options.readingTimeout();
        long now = System.nanoTime();
        replyAwaited = p;
        replyDeadline = now + timeout.toNanos();
        if (replyTimer != null && replyCheckAt - replyDeadline > 0) {
            // The scheduled check comes after the new deadline (a shorter timeout than the last one): move it.
            replyTimer.cancel(false);
            replyTimer = null;
        }
        if (replyTimer == null) {
            scheduleReplyCheck(now, replyDeadline);
        }
    }

    private void scheduleReplyCheck(long now, long at) {
        replyCheckAt = at;
        replyTimer = loop.schedule(this::checkReplyTimer, Math.max(0, at - now), TimeUnit.NANOSECONDS);
    }

    private void checkReplyTimer() {
        replyTimer = null;
        Pending p = replyAwaited;
        if (p == null || pending != p || p.isDone()) {
            return;
        }
        long now = System.nanoTime();
        if (replyDeadline - now > 0) {
            scheduleReplyCheck(now, replyDeadline);
            return;
        }
        replyAwaited = null;
        boolean endOfMessage = p.command == CommandType.END_OF_MESSAGE;
        TimeoutKind kind = endOfMessage ? TimeoutKind.END_OF_MESSAGE : TimeoutKind.READING;
        Duration timeout = endOfMessage ? options.endOfMessageTimeout() : options.readingTimeout();
        if (debugging()) {
            debug("[server][timeout][" + kind.nick() + "]", () -> "");
        }
        fail(new MilterTimeoutException(kind, p.state.nick(), kind.nick() + " timeout: no reply to "
                + p.state.nick() + " within " + seconds(timeout) + " seconds"));
    }

    /** The awaited reply came (or no longer matters); the scheduled check, if any, stays for the next command. */
    private void disarmReplyTimer() {
        replyAwaited = null;
    }

    /** Drops the scheduled check too: nothing will be awaited on this connection any more. */
    private void stopReplyTimer() {
        replyAwaited = null;
        cancel(replyTimer);
        replyTimer = null;
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    // ---------------------------------------------------------------- receiving

    private void onReply(Reply reply) {
        if (failure != null) {
            return;
        }
        if (quitted) {
            String nick = ReplyRules.nick(reply);
            TaggedLogger.warning(tag, "[server][reply][quitted][" + state.nick() + "][" + nick + "]",
                    name + "<" + nick + "> received after quit; ignored");
            return;
        }
        Pending p = pending;
        if (p == null) {
            invalid(reply, state, null);
            return;
        }
        if (debugging()) {
            debug("[server][receive][" + ReplyRules.nick(reply) + "][" + p.state.nick() + "]", reply::toString);
        }
        ReplyType type = reply.type();
        if (p.command == CommandType.NEGOTIATE) {
            if (reply instanceof Reply.Negotiate negotiate) {
                onNegotiateReply(p, negotiate.option());
            } else {
                invalid(reply, p.state, p);
            }
            return;
        }
        if (p.command == CommandType.END_OF_MESSAGE && (type.isModification() || type == ReplyType.PROGRESS)) {
            if (type.isModification() && (option.actions() & type.requiredAction()) == 0) {
                notNegotiated(reply, p);
                return;
            }
            if (type == ReplyType.PROGRESS) {
                armReplyTimer(p);
            }
            deliver(p, reply);
            return;
        }
        if (!ReplyRules.isLegalFinal(p.command, type, option.protocol())) {
            invalid(reply, p.state, p);
            return;
        }
        if (type == ReplyType.SKIP) {
            skipBody = true;
        } else if (type == ReplyType.CONTINUE && p.body != null) {
            disarmReplyTimer();
            writeNextBodyPiece(p);
            return;
        }
        complete(p, reply);
    }

    private void onNegotiateReply(Pending p, Option reply) {
        Option effective;
        try {
            effective = Negotiation.checkReply(offer, reply);
        } catch (NegotiationException e) {
            TaggedLogger.error(tag, "[server][error]", name + e.getMessage());
            fail(new MilterProtocolException(ServerState.NEGOTIATE.nick(), e.getMessage(), e));
            return;
        }
        int ignored = Negotiation.unofferedProtocolBits(offer, reply);
        if (ignored != 0) {
            TaggedLogger.warning(tag, "[server][negotiate][protocol][ignored]",
                    name + "milter requested protocol flags that were not offered; ignored: "
                            + ProtocolFlags.toString(ignored));
        }
        option = effective;
        decoder.setMaxPayload(ProtocolFlags.maxDataSize(effective.protocol()));
        finish(p);
        debug("[server][negotiated]", effective::toString);
        negotiation.complete(effective);
    }

    private void deliver(Pending p, Reply reply) {
        if (p.listener == null) {
            return;
        }
        try {
            p.listener.accept(reply);
        } catch (RuntimeException e) {
            TaggedLogger.error(tag, "[server][error]", name + "end-of-message listener failed on <"
                    + ReplyRules.nick(reply) + ">: " + e);
        }
    }

    private void complete(Pending p, Reply reply) {
        finish(p);
        lastStatus = ReplyStatus.of(reply);
        if (p.command == CommandType.END_OF_MESSAGE) {
            skipBody = false;
        }
        p.future.complete(reply);
    }

    private void finish(Pending p) {
        disarmReplyTimer();
        pending = null;
        p.releaseBody();
        waitingNanos += System.nanoTime() - p.startNanos;
    }

    private void invalid(Reply reply, ServerState current, Pending p) {
        String nick = ReplyRules.nick(reply);
        List<String> expected = ReplyRules.expected(p == null ? null : p.command,
                option == null ? 0 : option.protocol());
        String message = "<" + nick + "> should be caused on <" + ReplyRules.legalStates(reply.type())
                + "> but was <" + current.nick() + ">: "
                + (expected.isEmpty() ? "no reply was expected" : "expected one of <" + String.join(", ", expected)
                        + ">");
        TaggedLogger.error(tag, "[server][error][" + nick + "][state][invalid][" + current.nick() + "]",
                name + message);
        fail(new MilterProtocolException(current.nick(), message));
    }

    private void notNegotiated(Reply reply, Pending p) {
        String nick = ReplyRules.nick(reply);
        String message = "<" + nick + "> needs action <" + ActionFlags.toString(reply.type().requiredAction())
                + "> which was not negotiated: <" + ActionFlags.toString(option.actions()) + ">";
        TaggedLogger.error(tag, "[server][error][" + nick + "][action][not-negotiated]", name + message);
        fail(new MilterProtocolException(p.state.nick(), message));
    }

    // ---------------------------------------------------------------- failing and closing

    /** Ends the session: the first error wins, everything outstanding fails with it, the channel is closed. */
    private void fail(MilterServerException error) {
        if (failure == null) {
            failure = error;
        }
        cancel(writeTimer);
        writeTimer = null;
        stopReplyTimer();
        Pending p = pending;
        pending = null;
        if (p != null) {
            if (p.body != null) {
                TaggedLogger.error(tag, "[server][dispose][body][remained]", name + "unsent body remained: "
                        + (p.body.content().writerIndex() - p.bodyOffset) + " bytes");
            }
            p.releaseBody();
            p.fail(failure);
        }
        if (negotiation != null && !negotiation.isDone()) {
            negotiation.completeExceptionally(failure);
        }
        if (channel != null) {
            channel.close();
        }
    }

    private void onClosed() {
        cancel(connectTimer);
        connectTimer = null;
        if (failure == null && !quitted && connected.isDone()) {
            if (pending != null) {
                String message = "connection closed by milter while waiting for the reply to " + pending.state.nick();
                TaggedLogger.error(tag, "[server][error][closed]", name + message);
                fail(new MilterClosedException(pending.state.nick(), message));
            } else {
                failure = new MilterClosedException(state.nick(), "connection closed by milter");
                debug("[server][closed]", () -> "connection closed by milter in " + state.nick());
            }
        }
        cancel(writeTimer);
        writeTimer = null;
        stopReplyTimer();
        cancel(quitTimer);
        quitTimer = null;
        // A connect still in progress learns of the close from its own future (failed or cancelled).
        closed.complete(null);
    }

    /** Reads replies and errors from the pipeline. */
    private final class Inbound extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Reply reply) {
                    onReply(reply);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof MilterDecoderException decode) {
                TaggedLogger.error(tag, "[agent][error][decode]", name + "Decode error: " + decode.reason().nick()
                        + ": " + decode.getMessage());
                if (failure == null) {
                    fail(new MilterProtocolException(stateForError(), "Decode error: " + decode.getMessage(),
                            decode));
                }
            } else if (cause instanceof IOException) {
                TaggedLogger.error(tag, "[agent][error][reader]", name + reason(cause));
                if (failure == null && !quitted) {
                    fail(new MilterClosedException(stateForError(), "read error: " + reason(cause), cause));
                } else {
                    ctx.close();
                }
            } else {
                TaggedLogger.error(tag, "[server][error]", name + cause);
                if (failure == null) {
                    fail(new MilterServerException(stateForError(), String.valueOf(cause), cause));
                }
            }
        }
    }

    private String stateForError() {
        return pending != null ? pending.state.nick() : state.nick();
    }

    // ---------------------------------------------------------------- helpers

    /** Runs on the loop; if the loop refuses, {@code future} fails and {@code owned}'s buffer is released. */
    private void onLoop(Runnable task, CompletableFuture<?> future, Object owned) {
        if (loop.inEventLoop()) {
            task.run();
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            ReferenceCountUtil.release(owned);
            future.completeExceptionally(new MilterClosedException(state.nick(), "event loop is shut down", e));
        }
    }

    private void onLoop(Runnable task) {
        if (loop.inEventLoop()) {
            task.run();
        } else {
            try {
                loop.execute(task);
            } catch (RejectedExecutionException e) {
                closed.complete(null);
            }
        }
    }

    /** Whether debug lines are wanted; callers that build their tags check it first. */
    private static boolean debugging() {
        return TaggedLogger.isEnabled(LogLevel.DEBUG);
    }

    private void debug(String tags, java.util.function.Supplier<String> message) {
        if (TaggedLogger.isEnabled(LogLevel.DEBUG)) {
            TaggedLogger.debug(tag, tags, name + message.get());
        }
    }

    private static String describe(Command command) {
        if (command instanceof Command.Body body) {
            return "<" + body.content().readableBytes() + " bytes>";
        }
        return command.toString();
    }

    private static String seconds(Duration duration) {
        return Double.toString(duration.toNanos() / 1e9);
    }

    private static final java.util.regex.Pattern NATIVE_PREFIX =
            java.util.regex.Pattern.compile("^\\w+\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: ");

    /** A cause's message without Netty's decorations ({@code connect(..) failed: }, trailing address). */
    static String reason(Throwable cause) {
        if (cause == null) {
            return "unknown error";
        }
        String message = cause.getMessage();
        if (message == null || message.isEmpty()) {
            // Netty's native transport reports ENOENT on a UNIX socket this way.
            return cause instanceof java.io.FileNotFoundException ? "No such file or directory"
                    : cause.getClass().getSimpleName();
        }
        message = NATIVE_PREFIX.matcher(message).replaceFirst("");
        int annotation = message.lastIndexOf(": /");
        if (annotation > 0) {
            message = message.substring(0, annotation);
        }
        return message;
    }

    /** A command waiting for its final reply. */
    private static final class Pending {
        final CommandType command;
        final ServerState state;
        final CompletableFuture<Reply> future;
        final Consumer<Reply> listener;
        final long startNanos = System.nanoTime();
        /** A body larger than one packet, owned until its last piece is written; null otherwise. */
        Command.Body body;
        int bodyOffset;

        Pending(CommandType command, CompletableFuture<Reply> future, Consumer<Reply> listener) {
            this.command = command;
            this.state = ServerState.of(command);
            this.future = future;
            this.listener = listener;
        }

        boolean isDone() {
            return future != null && future.isDone();
        }

        void fail(Throwable error) {
            if (future != null) {
                future.completeExceptionally(error);
            }
        }

        void releaseBody() {
            if (body != null) {
                body.release();
                body = null;
            }
        }
    }
}
