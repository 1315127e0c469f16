package milter.manager;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import milter.core.log.LogLevel;
import milter.core.log.SessionIds;
import milter.core.log.TaggedLogger;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.MacroStage;
import milter.core.protocol.Macros;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.message.BodyStore;
import milter.manager.message.HeaderDiff;

/**
 * The child milters of one MTA session: fans each MTA command out to them, merges their answers into one verdict
 * and applies their message modifications, as upstream's children object does. Connection-level and envelope
 * stages go to every eligible child at once; the message stages (headers, body, end of message) go through the
 * children one after another, later children seeing the message as earlier ones left it.
 *
 * <p>Every method runs on the session's event loop, and so do the completions of the child channels: no state
 * here is shared with another thread.
 */
public final class Children {
    private static final int MAX_VERSION = 6;
    private static final int STAGES = CommandType.values().length;
    private static final long RETRY_DELAY_MILLIS = Long.getLong("milter.manager.connect-retry-delay-ms", 5000);

    private final long tag;
    private final Configuration configuration;
    private final ChildConnector connector;
    private final EventLoop loop;
    private final Macros mtaMacros;
    private final IntSupplier processingSessions;
    private final List<Child> children = new ArrayList<>();
    private final Map<String, Object> mailTransactionShelf = new LinkedHashMap<>();

    private Option offer;
    private Option replyOption;
    private ClientAddress clientAddress;
    private String clientHost;
    private boolean finished;

    /** Compiled status per stage, reset when a stage's command arrives (parallel) or a message starts. */
    private final EnumMap<CommandType, Status> compiled = new EnumMap<>(CommandType.class);
    /** Last reply code a child sent; used when the emitted status matches its class. */
    private String replyCode;
    /** Last status replied to the MTA, and the stage it answered, for statistics. */
    private Status lastMtaStatus = Status.NOT_CHANGE;
    private CommandType lastMtaStage = CommandType.NEGOTIATE;
    private boolean dataSent;

    private MessageInProgress message;

    /** Per stage: the MTA macro table last turned into a packet for the children, and that packet. */
    private final Map<String, String>[] macroTables = newTables();
    private final Command.DefineMacro[] macroPackets = new Command.DefineMacro[STAGES];

    public Children(long tag, Configuration configuration, ChildConnector connector, EventLoop loop, Macros mtaMacros,
            IntSupplier processingSessions) {
        this.tag = tag;
        this.configuration = configuration;
        this.connector = connector;
        this.loop = loop;
        this.mtaMacros = mtaMacros;
        this.processingSessions = processingSessions;
    }

    public long tag() {
        return tag;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String>[] newTables() {
        return (Map<String, String>[]) new Map<?, ?>[STAGES];
    }

    public Status lastMtaStatus() {
        return lastMtaStatus;
    }

    public CommandType lastMtaStage() {
        return lastMtaStage;
    }

    /** The option replied to the MTA (null before negotiation finished). */
    public Option replyOption() {
        return replyOption;
    }

    // ------------------------------------------------------------------------------------------------ negotiate

    /** Hatches the children, connects to them in parallel and completes with the option for the MTA. */
    public CompletionStage<Option> negotiate(Option mtaOffer) {
        lastMtaStage = CommandType.NEGOTIATE;
        int version = Math.min(mtaOffer.version(), MAX_VERSION);
        this.offer = new Option(version, mtaOffer.actions(), mtaOffer.protocol());
        for (Egg egg : configuration.eggs()) {
            if (!egg.enabled()) {
                continue;
            }
            if (egg.connectionSpec() == null) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[egg][error]", "must set connection spec: " + egg.name());
                continue;
            }
            children.add(new Child(egg, SessionIds.next(), conditionsOf(egg)));
        }
        CompletableFuture<Option> result = new CompletableFuture<>();
        if (children.isEmpty()) {
            replyNegotiate(result);
            return result;
        }
        Countdown pending = new Countdown(children.size(), () -> replyNegotiate(result));
        for (Child child : children) {
            connectChild(child, pending);
        }
        return result;
    }

    private List<ApplicableCondition> conditionsOf(Egg egg) {
        List<ApplicableCondition> conditions = new ArrayList<>();
        for (String name : egg.applicableConditions()) {
            ApplicableCondition condition = configuration.condition(name);
            if (condition == null) {
                TaggedLogger.error(tag, "[children][error][applicable-condition]",
                        "unknown applicable condition: <" + name + ">: " + egg.name());
            } else {
                conditions.add(condition);
            }
        }
        return conditions;
    }

    private void connectChild(Child child, Countdown pending) {
        connector.connect(child.egg, child.tag, loop).whenComplete((channel, error) -> {
            if (finished) {
                if (channel != null) {
                    channel.close();
                }
                pending.done();
                return;
            }
            if (error != null) {
                ChildFailure failure = ChildFailure.of(error);
                if (failure.kind() == ChildFailure.Kind.CONNECTION_TIMEOUT) {
                    TaggedLogger.error(tag, "[children][timeout][connection]", "[" + child.tag + "] " + child.name());
                } else {
                    String reason = failure.getMessage();
                    TaggedLogger.error(tag, "[children][error][connection]",
                            "[" + child.tag + "] " + reason + ": " + child.name());
                    TaggedLogger.error(tag, "[leader][error]", reason);
                    if (retryConnect(child)) {
                        child.connectRetried = true;
                        connector.startChild(child.egg, tag, child.tag);
                        loop.schedule(() -> connectChild(child, pending), RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
                        return;
                    }
                    if (!configuration.bool(milter.manager.config.Setting.SECURITY_PRIVILEGE_MODE)) {
                        TaggedLogger.debug(tag, "[children][connection][not-retry]",
                                () -> "[" + child.tag + "] not privilege mode: " + child.name());
                    }
                }
                giveUp(child);
                pending.done();
                return;
            }
            child.channel = channel;
            channel.onClose(() -> childClosed(child));
            TaggedLogger.debug(tag, "[children][milter][start]", () -> "[" + child.tag + "] " + child.name());
            child.startWaiting();
            child.sent(CommandType.NEGOTIATE);
            channel.negotiate(offer).whenComplete((option, negotiateError) -> {
                child.stopWaiting();
                if (negotiateError != null) {
                    fail(child, CommandType.NEGOTIATE, ChildFailure.of(negotiateError));
                } else if (!child.quitted()) {
                    child.state = Child.State.NEGOTIATED;
                    TaggedLogger.debug(tag, "[children][negotiate][done]",
                            () -> "[" + child.tag + "] " + child.name());
                }
                pending.done();
            });
        });
    }

    /** A refused connection is retried once, after the launcher had a chance to start the child. */
    private boolean retryConnect(Child child) {
        return !child.connectRetried && configuration.bool(milter.manager.config.Setting.SECURITY_PRIVILEGE_MODE)
                && child.egg.command() != null;
    }

    private void giveUp(Child child) {
        child.state = Child.State.QUITTED;
        child.status = Status.ERROR;
        reportEnd(child);
    }

    private void replyNegotiate(CompletableFuture<Option> result) {
        if (finished) {
            // The MTA is gone already: nothing to merge, nobody to expire.
            result.complete(new Option(offer.version(), offer.actions(), 0));
            return;
        }
        int offered = offer.protocol();
        int noReply = ProtocolFlags.NO_REPLY_MASK & offered;
        int yes = 0;
        int actions = offer.actions();
        boolean anyNegotiated = false;
        Map<MacroStage, List<String>> macroLists = new EnumMap<>(MacroStage.class);
        for (Child child : children) {
            if (!child.alive()) {
                continue;
            }
            Option option = child.option();
            anyNegotiated = true;
            noReply &= option.protocol();
            yes |= option.protocol() & ProtocolFlags.YES_MASK;
            actions |= option.actions() & offer.actions();
            option.macroRequests().forEach((stage, names) -> {
                List<String> merged = macroLists.computeIfAbsent(stage, s -> new ArrayList<>());
                for (String name : names) {
                    if (!merged.contains(name)) {
                        merged.add(name);
                    }
                }
            });
        }
        if (!children.isEmpty() && !anyNegotiated) {
            TaggedLogger.error(tag, "[children][error][negotiate][no-response]", "");
        }
        if (!anyNegotiated) {
            // Without a child nothing is negotiated away: every command gets our (fallback) answer.
            noReply = 0;
        }
        yes &= offered;
        // Larger body chunks are fine for us: the store takes any size and the child connections split them.
        int maxDataSize = offered & (ProtocolFlags.MAX_DATA_SIZE_256K | ProtocolFlags.MAX_DATA_SIZE_1M);
        replyOption = new Option(offer.version(), actions, noReply | yes | maxDataSize, macroLists);
        result.complete(replyOption);
        applyNegotiationFallback();
    }

    /** When a child that did not negotiate has a refusing fallback, the whole session falls back (§1.4). */
    private void applyNegotiationFallback() {
        Status status = Status.CONTINUE;
        for (Child child : children) {
            if (!child.alive()) {
                status = Status.moreSevere(status, child.egg.fallbackStatus());
            }
        }
        if (status != Status.REJECT && status != Status.TEMPORARY_FAILURE && status != Status.DISCARD) {
            return;
        }
        String nick = status.nick();
        TaggedLogger.debug(tag, "[children][negotiate][fallback][all-expire][" + nick + "]", "");
        for (Child child : children) {
            if (child.alive()) {
                TaggedLogger.debug(tag, "[children][negotiate][fallback][expire][" + nick + "]",
                        () -> "[" + child.tag + "] " + child.name());
                expire(child);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ parallel stages

    public CompletionStage<Reply> connect(Command.Connect command) {
        clientHost = command.host();
        clientAddress = ClientAddress.of(command);
        return parallel(CommandType.CONNECT, command, aliveChildren());
    }

    public CompletionStage<Reply> helo(Command.Helo command) {
        return parallel(CommandType.HELO, command, aliveChildren());
    }

    public CompletionStage<Reply> envelopeFrom(Command.EnvelopeFrom command) {
        dropMessage();
        message = new MessageInProgress();
        dataSent = false;
        for (Child child : children) {
            child.resetMessage();
        }
        return parallel(CommandType.ENVELOPE_FROM, command, aliveChildren());
    }

    public CompletionStage<Reply> envelopeRecipient(Command.EnvelopeRecipient command) {
        return parallel(CommandType.ENVELOPE_RECIPIENT, command, processingChildren());
    }

    public CompletionStage<Reply> data() {
        dataSent = true;
        List<Child> eligible = new ArrayList<>();
        for (Child child : processingChildren()) {
            if (child.recipientAccepted) {
                eligible.add(child);
            } else {
                // Refused every recipient: the message is over for this child.
                abortChild(child);
            }
        }
        return parallel(CommandType.DATA, Command.Data.INSTANCE, eligible);
    }

    public CompletionStage<Reply> unknown(Command.Unknown command) {
        return parallel(CommandType.UNKNOWN, command, aliveChildren());
    }

    private List<Child> aliveChildren() {
        List<Child> alive = new ArrayList<>();
        for (Child child : children) {
            if (child.alive()) {
                alive.add(child);
            }
        }
        return alive;
    }

    private List<Child> processingChildren() {
        List<Child> processing = new ArrayList<>();
        for (Child child : children) {
            if (child.alive() && child.inMessage) {
                processing.add(child);
            }
        }
        return processing;
    }

    private CompletionStage<Reply> parallel(CommandType stage, Command command, List<Child> eligible) {
        lastMtaStage = stage;
        compiled.put(stage, Status.NOT_CHANGE);
        // A reply code answers the command it came with, never a later one (see docs/compatibility.md).
        replyCode = null;
        if (eligible.isEmpty()) {
            return CompletableFuture.completedFuture(noChildFallback(stage));
        }
        CompletableFuture<Reply> result = new CompletableFuture<>();
        Countdown pending = new Countdown(eligible.size(), () -> result.complete(finishParallel(stage)));
        for (Child child : eligible) {
            if (stage == CommandType.CONNECT && child.hasStopper(stage)) {
                connectStopped(child).whenComplete((stop, error) -> {
                    if (finished || child.quitted()) {
                        pending.done();
                    } else if (error == null && stop) {
                        applyStop(child, stage);
                        pending.done();
                    } else {
                        sendParallel(child, stage, command, pending);
                    }
                });
                continue;
            }
            if (stoppedAt(child, stage, command)) {
                applyStop(child, stage);
                pending.done();
                continue;
            }
            sendParallel(child, stage, command, pending);
        }
        return result;
    }

    private void sendParallel(Child child, CommandType stage, Command command, Countdown pending) {
        sendMacros(child, stage);
        child.sent(stage);
        child.startWaiting();
        child.channel.send(forChild(child, command)).whenComplete((reply, error) -> {
            child.stopWaiting();
            if (finished) {
                pending.done();
                return;
            }
            if (error != null) {
                Status fallback = fail(child, stage, ChildFailure.of(error));
                compile(stage, fallback);
            } else {
                onParallelAnswer(child, stage, reply);
            }
            pending.done();
        });
    }

    /**
     * Asks the connect stoppers of a child in order; the first true stops it. Exceptions count as false. A stopper
     * may answer later on another thread (a DNS lookup): the next one is asked, and the result delivered, on the
     * session's loop again.
     */
    private CompletionStage<Boolean> connectStopped(Child child) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        askConnectStopper(child, stopperContext(child, CommandType.CONNECT), 0, result);
        return result;
    }

    private void askConnectStopper(Child child, ChildStopperContext context, int index,
            CompletableFuture<Boolean> result) {
        int next = index;
        while (next < child.conditions.size() && !child.conditions.get(next).hasStopper(CommandType.CONNECT)) {
            next++;
        }
        if (next == child.conditions.size()) {
            result.complete(false);
            return;
        }
        ApplicableCondition condition = child.conditions.get(next);
        int following = next + 1;
        CompletionStage<Boolean> answer;
        try {
            answer = condition.stopOnConnectAsync(context, clientHost, clientAddress);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((stop, error) -> {
            Runnable go = () -> {
                if (error != null) {
                    Throwable cause = error instanceof java.util.concurrent.CompletionException
                            && error.getCause() != null ? error.getCause() : error;
                    TaggedLogger.error(tag, "[children][error][applicable-condition][connect]",
                            condition.name() + ": " + cause.getClass().getName() + ": " + cause.getMessage() + ": "
                                    + child.name());
                }
                if (error == null && Boolean.TRUE.equals(stop)) {
                    result.complete(true);
                } else {
                    askConnectStopper(child, context, following, result);
                }
            };
            if (loop.inEventLoop()) {
                go.run();
            } else {
                loop.execute(go);
            }
        });
    }

    /** Nobody can answer the command: the manager's fallback, with upstream's error lines (one reply, Q6). */
    private Reply noChildFallback(CommandType stage) {
        String text;
        if (stage == CommandType.ENVELOPE_RECIPIENT || stage == CommandType.DATA || isMessageStage(stage)) {
            text = "None of milters are processing message.";
            TaggedLogger.error(tag, "[children][error][message-processing]", text);
        } else {
            text = "All milters are no longer alive.";
            TaggedLogger.error(tag, "[children][error][alive]", text);
        }
        TaggedLogger.error(tag, "[leader][error]", text);
        return emit(stage, configuration.fallbackStatus());
    }

    private void onParallelAnswer(Child child, CommandType stage, Reply reply) {
        Status status = statusOf(reply);
        child.answered(stage, status);
        boolean evaluation = child.egg.evaluationMode();
        Status counted = status;
        if (evaluation && isRefusal(status)) {
            TaggedLogger.debug(tag, "[children][evaluation][" + status.nick() + "][" + stage.nick() + "]",
                    () -> "[" + child.tag + "] " + child.name());
            counted = Status.ACCEPT;
        } else if (reply instanceof Reply.ReplyCode code) {
            replyCode = code.reply();
        }
        switch (stage) {
            case CONNECT:
            case HELO:
                if (status == Status.DISCARD) {
                    invalidState(child, status, stage);
                } else if (status != Status.CONTINUE) {
                    quit(child);
                }
                break;
            case ENVELOPE_FROM:
                child.inMessage = status == Status.CONTINUE;
                break;
            case ENVELOPE_RECIPIENT:
                if (status == Status.CONTINUE) {
                    child.recipientAccepted = true;
                } else if (status == Status.ACCEPT) {
                    child.inMessage = false;
                }
                break;
            case DATA:
                if (status != Status.CONTINUE) {
                    child.inMessage = false;
                }
                break;
            case UNKNOWN:
                if (status != Status.CONTINUE) {
                    invalidState(child, status, stage);
                }
                break;
            default:
                break;
        }
        compile(stage, counted);
    }

    private Reply finishParallel(CommandType stage) {
        Status status = compiled.get(stage);
        if (status == Status.NOT_CHANGE) {
            status = Status.CONTINUE;
        }
        if (stage == CommandType.ENVELOPE_FROM && status == Status.CONTINUE && processingChildren().isEmpty()) {
            // Every child was stopped for this message: nothing will look at it, so say so at once.
            status = Status.ACCEPT;
        }
        if (((status == Status.REJECT || status == Status.TEMPORARY_FAILURE) && stage != CommandType.ENVELOPE_RECIPIENT)
                || status == Status.DISCARD || (status == Status.ACCEPT && isEnvelopeStage(stage))) {
            if (isEnvelopeStage(stage)) {
                // The MTA will not go on with this message: children still in it are told so.
                abortMessageChildren();
            }
        }
        return emit(stage, status);
    }

    // ------------------------------------------------------------------------------------------- message stages

    public CompletionStage<Reply> header(Command.Header command) {
        return messageCommand(CommandType.HEADER, command);
    }

    public CompletionStage<Reply> endOfHeader() {
        return messageCommand(CommandType.END_OF_HEADER, Command.EndOfHeader.INSTANCE);
    }

    /** The chunk stays owned by the caller; the store keeps its own reference. */
    public CompletionStage<Reply> body(Command.Body command) {
        return messageCommand(CommandType.BODY, command);
    }

    /**
     * End of message: runs the remaining children, then gives {@code toMta} the merged modifications (it answers
     * whether the packet went out) and completes with the final reply. Progress and recipient changes go to
     * {@code toMta} as the children send them.
     */
    public CompletionStage<Reply> endOfMessage(Command.EndOfMessage command, Predicate<Reply> toMta) {
        if (message == null) {
            message = new MessageInProgress();
        }
        message.toMta = toMta;
        return messageCommand(CommandType.END_OF_MESSAGE, command);
    }

    private CompletionStage<Reply> messageCommand(CommandType stage, Command command) {
        lastMtaStage = stage;
        replyCode = null;
        if (message == null) {
            // A message stage without MAIL (a v2 MTA that skipped it, or a confused one).
            message = new MessageInProgress();
        }
        MessageInProgress current = message;
        if (!current.started) {
            CompletionStage<Reply> start = startPipeline(stage, command);
            if (start != null) {
                return start;
            }
        }
        if (current.finished) {
            // The message already has its verdict (every child left it): answer with what was compiled.
            Status status = compiledOrContinue(stage);
            if (stage == CommandType.END_OF_MESSAGE) {
                return CompletableFuture.completedFuture(finishMessage());
            }
            return CompletableFuture.completedFuture(emit(stage, status));
        }
        try {
            record(current, stage, command);
        } catch (BodyStore.StoreException e) {
            TaggedLogger.error(tag, "[children][error][body][" + e.operation() + "]", String.valueOf(e.getMessage()));
            current.storeFailed = true;
            current.finished = true;
            abortMessageChildren();
            Reply reply = emit(stage, configuration.fallbackStatus());
            dropMessage();
            return CompletableFuture.completedFuture(reply);
        }
        current.pending = new CompletableFuture<>();
        current.pendingStage = stage;
        CompletableFuture<Reply> pending = current.pending;
        if (current.child == null) {
            nextChild();
        } else if (current.streaming) {
            stream(current.child, stage, command);
        }
        return pending;
    }

    /**
     * Starts the sequential part of a message at its first header, end of header, body chunk or end of message.
     * Returns a reply when the command is answered without any child (DATA emulation refused it, nobody is
     * processing the message), else null.
     */
    private CompletionStage<Reply> startPipeline(CommandType stage, Command command) {
        MessageInProgress current = message;
        if (!dataSent && offer != null && offer.version() >= 4 && !processingChildren().isEmpty()) {
            dataSent = true;
            if (command instanceof Command.Header header) {
                TaggedLogger.debug(tag, "[children][data-command-emulation][header]",
                        () -> "<" + header.name() + ">=<" + header.value() + ">");
            } else {
                TaggedLogger.debug(tag, "[children][data-command-emulation][" + stage.nick() + "]", "");
            }
            CommandType mtaStage = lastMtaStage;
            return data().thenCompose(reply -> {
                lastMtaStage = mtaStage;
                if (reply.type() != milter.core.protocol.ReplyType.CONTINUE) {
                    return CompletableFuture.completedFuture(reply);
                }
                return messageCommand(stage, command);
            });
        }
        current.started = true;
        resetMessageStatuses();
        for (Child child : children) {
            if (!child.alive() || !child.inMessage) {
                continue;
            }
            if (child.recipientAccepted) {
                current.queue.add(child);
            } else {
                abortChild(child);
            }
        }
        if (current.queue.isEmpty()) {
            current.finished = true;
            return CompletableFuture.completedFuture(noChildFallback(stage));
        }
        return null;
    }

    private void record(MessageInProgress current, CommandType stage, Command command) throws BodyStore.StoreException {
        switch (stage) {
            case HEADER: {
                Command.Header header = (Command.Header) command;
                current.originalHeaders.append(header.name(), header.value());
                current.headers.append(header.name(), header.value());
                current.sawHeader = true;
                break;
            }
            case END_OF_HEADER:
                current.sawEndOfHeader = true;
                break;
            case BODY:
                current.sawBody = true;
                current.body.append(((Command.Body) command).content());
                break;
            case END_OF_MESSAGE: {
                current.sawEndOfMessage = true;
                ByteBuf data = ((Command.EndOfMessage) command).content();
                current.endOfMessageData = data.isReadable() ? data.retainedSlice() : Unpooled.EMPTY_BUFFER;
                break;
            }
            default:
                break;
        }
    }

    /** Moves the pipeline to the next queued child, or finishes the pending MTA command when none is left. */
    private void nextChild() {
        MessageInProgress current = message;
        current.child = null;
        current.streaming = false;
        while (!current.queue.isEmpty()) {
            Child child = current.queue.poll();
            if (!child.alive() || !child.inMessage) {
                continue;
            }
            current.child = child;
            current.replay = new MessageInProgress.Replay();
            replayNext();
            return;
        }
        current.finished = true;
        answerPending();
    }

    /** Sends the next replayed event to the current child, or turns it into the streaming child when caught up. */
    private void replayNext() {
        MessageInProgress current = message;
        Child child = current.child;
        MessageInProgress.Replay replay = current.replay;
        if (replay.headerIndex < current.headers.size()) {
            milter.manager.message.Header header = current.headers.get(replay.headerIndex++);
            Command.Header command = new Command.Header(header.name(), header.value());
            sendStep(child, CommandType.HEADER, command);
            return;
        }
        if (current.sawEndOfHeader && !replay.endOfHeaderSent) {
            replay.endOfHeaderSent = true;
            sendStep(child, CommandType.END_OF_HEADER, Command.EndOfHeader.INSTANCE);
            return;
        }
        if (current.sawBody && !child.bodySkipped && replay.bodyOffset < current.body.size()) {
            ByteBuf chunk;
            try {
                chunk = current.body.read(replay.bodyOffset, configuration.chunkSize(), ByteBufAllocator.DEFAULT);
            } catch (BodyStore.StoreException e) {
                // Upstream's tag for reading the store on the way to a child.
                storeFailed(new BodyStore.StoreException("send", e), child);
                return;
            }
            replay.bodyOffset += chunk.readableBytes();
            Command.Body command = new Command.Body(chunk);
            try {
                sendStep(child, CommandType.BODY, command);
            } finally {
                command.release();
            }
            return;
        }
        if (current.sawEndOfMessage && !replay.endOfMessageSent) {
            replay.endOfMessageSent = true;
            sendEndOfMessage(child);
            return;
        }
        // Caught up: later MTA events go to this child directly; the pending MTA command gets its answer.
        current.streaming = true;
        current.replay = null;
        answerPending();
    }

    /** Streams one MTA event to the current child. */
    private void stream(Child child, CommandType stage, Command command) {
        if (stage == CommandType.END_OF_MESSAGE) {
            sendEndOfMessage(child);
            return;
        }
        if (stage == CommandType.BODY && child.bodySkipped) {
            answerPending();
            return;
        }
        sendStep(child, stage, command);
    }

    /**
     * Sends one header, end-of-header or body event to the pipeline child; its answer drives the pipeline. An
     * answer that is already there (a stage the child negotiated away) is handled on the next loop iteration so
     * that a long replay never deepens the stack.
     */
    private void sendStep(Child child, CommandType stage, Command command) {
        if (stoppedAt(child, stage, command)) {
            applyStop(child, stage);
            nextChild();
            return;
        }
        sendMacros(child, stage);
        child.sent(stage);
        child.startWaiting();
        MessageInProgress current = message;
        CompletableFuture<Reply> answer = child.channel.send(forChild(child, command)).toCompletableFuture();
        if (answer.isDone()) {
            loop.execute(() -> onStepAnswer(child, stage, current, answer));
        } else {
            answer.whenComplete((reply, error) -> onStepAnswer(child, stage, current, answer));
        }
    }

    private void onStepAnswer(Child child, CommandType stage, MessageInProgress current, CompletableFuture<Reply> answer) {
        child.stopWaiting();
        if (finished || message != current || current.child != child) {
            return;
        }
        Reply reply;
        try {
            reply = answer.join();
        } catch (RuntimeException e) {
            onPipelineFailure(child, stage, ChildFailure.of(e));
            return;
        }
        onPipelineAnswer(child, stage, reply);
    }

    private void onPipelineAnswer(Child child, CommandType stage, Reply reply) {
        MessageInProgress current = message;
        Status status = statusOf(reply);
        child.answered(stage, status);
        switch (status) {
            case CONTINUE:
                compile(stage, Status.CONTINUE);
                if (current.replay != null) {
                    replayNext();
                } else {
                    answerPending();
                }
                return;
            case SKIP:
                compile(stage, Status.SKIP);
                child.bodySkipped = true;
                if (current.replay != null) {
                    replayNext();
                } else {
                    answerPending();
                }
                return;
            case ACCEPT:
                compile(stage, Status.ACCEPT);
                child.inMessage = false;
                nextChild();
                return;
            default:
                refusal(child, stage, reply, status);
        }
    }

    /** A child refused the message in a message stage. */
    private void refusal(Child child, CommandType stage, Reply reply, Status status) {
        if (child.egg.evaluationMode()) {
            TaggedLogger.debug(tag, "[children][evaluation][" + status.nick() + "][" + stage.nick() + "]",
                    () -> "[" + child.tag + "] " + child.name());
            // Quirk Q3 fixed: the verdict is only reported; the child leaves this message, the others go on.
            compile(stage, Status.ACCEPT);
            abortChild(child);
            nextChild();
            return;
        }
        if (reply instanceof Reply.ReplyCode code) {
            replyCode = code.reply();
        }
        compile(stage, status);
        endMessage(compiled.get(stage));
    }

    private void onPipelineFailure(Child child, CommandType stage, ChildFailure failure) {
        Status fallback = fail(child, stage, failure);
        compile(stage, fallback);
        if (isRefusal(fallback)) {
            endMessage(compiled.get(stage));
        } else {
            nextChild();
        }
    }

    private void sendEndOfMessage(Child child) {
        MessageInProgress current = message;
        CommandType stage = CommandType.END_OF_MESSAGE;
        if (stoppedAt(child, stage, null)) {
            applyStop(child, stage);
            nextChild();
            return;
        }
        sendMacros(child, stage);
        child.sent(stage);
        child.startWaiting();
        ByteBuf data = current.endOfMessageData == null ? Unpooled.EMPTY_BUFFER : current.endOfMessageData;
        child.channel.endOfMessage(data, modification -> onModification(child, modification))
                .whenComplete((reply, error) -> {
                    child.stopWaiting();
                    if (finished || message != current || current.child != child) {
                        return;
                    }
                    if (error != null) {
                        onPipelineFailure(child, stage, ChildFailure.of(error));
                        return;
                    }
                    Status status = statusOf(reply);
                    child.answered(stage, status);
                    if (status == Status.CONTINUE || status == Status.ACCEPT || status == Status.SKIP) {
                        compile(stage, status == Status.SKIP ? Status.CONTINUE : status);
                        child.inMessage = false;
                        nextChild();
                    } else {
                        refusal(child, stage, reply, status);
                    }
                });
    }

    private void onModification(Child child, Reply modification) {
        MessageInProgress current = message;
        if (finished || current == null || current.child != child) {
            return;
        }
        boolean evaluation = child.egg.evaluationMode();
        switch (modification.type()) {
            case ADD_HEADER: {
                Reply.AddHeader add = (Reply.AddHeader) modification;
                String value = fromChild(child, add.value());
                logChildHeader(child, add.name(), value);
                if (!evaluationDrop(child, evaluation, modification)) {
                    current.headers.add(add.name(), value);
                }
                return;
            }
            case INSERT_HEADER: {
                Reply.InsertHeader insert = (Reply.InsertHeader) modification;
                String value = fromChild(child, insert.value());
                logChildHeader(child, insert.name(), value);
                if (!evaluationDrop(child, evaluation, modification)) {
                    current.headers.insert(insert.index(), insert.name(), value);
                }
                return;
            }
            case CHANGE_HEADER: {
                Reply.ChangeHeader change = (Reply.ChangeHeader) modification;
                String value = change.value().isEmpty() ? "" : fromChild(child, change.value());
                if (!value.isEmpty()) {
                    logChildHeader(child, change.name(), value);
                }
                if (!evaluationDrop(child, evaluation, modification)) {
                    current.headers.change(change.name(), change.index(), value);
                }
                return;
            }
            case CHANGE_FROM:
                if (!evaluationDrop(child, evaluation, modification)) {
                    current.changeFrom = (Reply.ChangeFrom) modification;
                }
                return;
            case QUARANTINE:
                child.status = Status.QUARANTINE;
                if (!evaluationDrop(child, evaluation, modification)) {
                    current.quarantine = (Reply.Quarantine) modification;
                }
                return;
            case REPLACE_BODY: {
                Reply.ReplaceBody body = (Reply.ReplaceBody) modification;
                if (evaluationDrop(child, evaluation, modification)) {
                    return;
                }
                try {
                    if (current.bodyReplacer != child) {
                        current.bodyReplacer = child;
                        current.bodyReplaced = true;
                        current.body.clear();
                    }
                    current.body.append(body.content());
                } catch (BodyStore.StoreException e) {
                    storeFailed(e, child);
                }
                return;
            }
            case ADD_RECIPIENT:
            case ADD_RECIPIENT_WITH_PARAMETERS:
            case DELETE_RECIPIENT:
                if (!evaluationDrop(child, evaluation, modification) && current.toMta != null) {
                    current.toMta.test(modification);
                }
                return;
            case PROGRESS:
                // Progress only keeps the MTA waiting; evaluation mode does not change that.
                TaggedLogger.debug(tag, "[children][progress]", () -> "[" + child.tag + "] " + child.name());
                if (current.toMta != null) {
                    current.toMta.test(modification);
                }
                return;
            default:
                return;
        }
    }

    private boolean evaluationDrop(Child child, boolean evaluation, Reply modification) {
        if (evaluation) {
            TaggedLogger.debug(tag, "[children][evaluation][" + modification.type().nick() + "]",
                    () -> "[" + child.tag + "] " + child.name());
        }
        return evaluation;
    }

    private void logChildHeader(Child child, String name, String value) {
        TaggedLogger.log(LogLevel.STATISTICS, TaggedLogger.NO_SESSION,
                "[milter][header][add](" + child.tag + "):", () -> "<" + name + ">=<" + value + ">: " + child.name());
    }

    /** Answers the MTA's pending message command from the pipeline's state. */
    private void answerPending() {
        MessageInProgress current = message;
        if (current == null || current.pending == null) {
            return;
        }
        CommandType stage = current.pendingStage;
        CompletableFuture<Reply> pending = current.pending;
        if (stage == CommandType.END_OF_MESSAGE) {
            if (current.child != null && !current.finished) {
                return;
            }
            current.pending = null;
            pending.complete(finishMessage());
            return;
        }
        current.pending = null;
        Status status = compiledOrContinue(stage);
        pending.complete(emit(stage, status));
    }

    /** Emits the merged modifications and the final end-of-message reply; the message is over. */
    private Reply finishMessage() {
        return finishMessage(compiledOrContinue(CommandType.END_OF_MESSAGE));
    }

    private Reply finishMessage(Status status) {
        MessageInProgress current = message;
        if (current != null && current.toMta != null && !current.storeFailed) {
            emitModifications(current);
        }
        Reply reply = emit(CommandType.END_OF_MESSAGE, status);
        for (Child child : children) {
            child.resetMessage();
        }
        dropMessage();
        return reply;
    }

    /**
     * The end of message output, in upstream's order: the replaced body, the header changes, the new sender and
     * the quarantine; the final reply follows.
     */
    private void emitModifications(MessageInProgress current) {
        Predicate<Reply> toMta = current.toMta;
        if (current.bodyReplaced) {
            long offset = 0;
            int chunkSize = configuration.chunkSize();
            try {
                if (current.body.size() == 0) {
                    toMta.test(new Reply.ReplaceBody(Unpooled.EMPTY_BUFFER));
                }
                while (offset < current.body.size()) {
                    ByteBuf chunk = current.body.read(offset, chunkSize, ByteBufAllocator.DEFAULT);
                    offset += chunk.readableBytes();
                    toMta.test(new Reply.ReplaceBody(chunk));
                }
            } catch (BodyStore.StoreException e) {
                // Upstream's tag for reading the store on the way to the MTA; what was sent stays sent.
                TaggedLogger.error(tag, "[children][error][body][read]", String.valueOf(e.getMessage()));
            }
        }
        for (Reply reply : HeaderDiff.diff(current.originalHeaders, current.headers)) {
            toMta.test(reply);
        }
        if (current.changeFrom != null) {
            toMta.test(current.changeFrom);
        }
        if (current.quarantine != null) {
            toMta.test(current.quarantine);
        }
    }

    /** A message-ending verdict: reply it at once (with the modifications so far at end of message). */
    private void endMessage(Status status) {
        MessageInProgress current = message;
        if (current == null) {
            return;
        }
        current.finished = true;
        current.child = null;
        // The MTA will abort or end the message; nothing else of it reaches a child.
        current.queue.clear();
        abortMessageChildren();
        CompletableFuture<Reply> pending = current.pending;
        current.pending = null;
        if (pending == null) {
            return;
        }
        CommandType stage = current.pendingStage;
        pending.complete(stage == CommandType.END_OF_MESSAGE ? finishMessage(status) : emit(stage, status));
    }

    /**
     * The body store failed (temporary file): the message cannot be processed any further, so it ends with the
     * manager's fallback status and without modifications.
     */
    private void storeFailed(BodyStore.StoreException failure, Child child) {
        String tags = "[children][error][body][" + failure.operation() + "]";
        if (child == null) {
            TaggedLogger.error(tag, tags, String.valueOf(failure.getMessage()));
        } else {
            TaggedLogger.error(tag, tags, "[" + child.tag + "] " + failure.getMessage() + ": " + child.name());
        }
        MessageInProgress current = message;
        if (current != null) {
            current.storeFailed = true;
        }
        endMessage(configuration.fallbackStatus());
    }

    // -------------------------------------------------------------------------------------- abort, quit, close

    /** MTA abort: children inside the message get abort; message data is dropped; no reply. */
    public void abort() {
        if (lastMtaStatus.isPass() && lastMtaStage != CommandType.END_OF_MESSAGE) {
            lastMtaStatus = Status.ABORT;
        }
        abortMessageChildren();
        mailTransactionShelf.clear();
        dropMessage();
        for (Child child : children) {
            child.resetMessage();
        }
    }

    /** MTA quit (or quit-new-connection): every child still connected gets quit; the children are done. */
    public void quit() {
        if (finished) {
            return;
        }
        // From here on no answer of a child moves anything: late callbacks see finished and return.
        finished = true;
        dropMessage();
        for (Child child : children) {
            if (!child.quitted() && child.channel != null) {
                quit(child);
            }
        }
        for (Child child : children) {
            if (!child.endReported && child.state != Child.State.CONNECTING) {
                reportEnd(child);
            }
        }
    }

    /** The MTA connection is gone: children inside a message get abort, then every child quits. */
    public void close() {
        if (finished) {
            return;
        }
        abortMessageChildren();
        quit();
    }

    /** Sends abort to every child still inside the message; they are out of it from now on. */
    private void abortMessageChildren() {
        for (Child child : children) {
            if (child.alive() && child.inMessage) {
                abortChild(child);
            }
            child.inMessage = false;
        }
    }

    private void abortChild(Child child) {
        child.aborted();
        child.channel.abort();
        child.inMessage = false;
    }

    private void dropMessage() {
        MessageInProgress current = message;
        if (current == null) {
            return;
        }
        message = null;
        current.release();
        CompletableFuture<Reply> pending = current.pending;
        current.pending = null;
        if (pending != null && !pending.isDone()) {
            pending.complete(emit(current.pendingStage, configuration.fallbackStatus()));
        }
    }

    private void resetMessageStatuses() {
        compiled.remove(CommandType.HEADER);
        compiled.remove(CommandType.END_OF_HEADER);
        compiled.remove(CommandType.BODY);
        compiled.remove(CommandType.END_OF_MESSAGE);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /** Sends quit: the child is out for the rest of the session. */
    private void quit(Child child) {
        if (child.quitted()) {
            return;
        }
        child.state = Child.State.QUITTED;
        child.inMessage = false;
        child.channel.quit();
        reportEnd(child);
    }

    /**
     * A failed child: expired for the rest of the session; returns its fallback status. A child that closed
     * while an answer was due is what upstream calls finishing without a response: only debug lines, its
     * fallback still counts. Anything else is an error line (upstream's tags, see docs/log-list.md).
     */
    private Status fail(Child child, CommandType stage, ChildFailure failure) {
        Status fallback = child.egg.fallbackStatus();
        if (child.quitted()) {
            return fallback;
        }
        String state = stage.nick();
        switch (failure.kind()) {
            case CONNECTION_TIMEOUT:
            case WRITING_TIMEOUT:
            case READING_TIMEOUT:
            case END_OF_MESSAGE_TIMEOUT:
                TaggedLogger.error(tag, "[children][timeout][" + failure.kind().tag() + "][" + state + "]["
                        + fallback.nick() + "]", "[" + child.tag + "] " + child.name());
                break;
            case CLOSED:
                TaggedLogger.debug(tag, "[children][end][" + state + "]", () -> "[" + child.tag + "] " + child.name());
                if (isMessageStage(stage)) {
                    TaggedLogger.debug(tag, "[children][unexpected]",
                            () -> "[" + child.tag + "] finish without receiving response: " + child.name());
                }
                break;
            case OUT_OF_STATE_REQUEST:
                TaggedLogger.error(tag, "[children][error][invalid-state][" + failure.action() + "][" + state + "]",
                        "[" + child.tag + "] only allowed in end of message session: " + child.name());
                break;
            default:
                TaggedLogger.error(tag, "[children][error][" + state + "][" + fallback.nick() + "]",
                        "[" + child.tag + "] " + failure.getMessage() + ": " + child.name());
                break;
        }
        child.status = Status.ERROR;
        expire(child);
        return fallback;
    }

    /** Out for the rest of the session without quit (it failed, or the session falls back as a whole). */
    private void expire(Child child) {
        if (child.quitted()) {
            return;
        }
        child.state = Child.State.QUITTED;
        child.inMessage = false;
        if (child.channel != null) {
            child.channel.close();
        }
        reportEnd(child);
    }

    /** The connection closed while nothing was awaited from the child (between commands, or after quit). */
    private void childClosed(Child child) {
        // With an answer outstanding the failed stage reports the close (or the timeout that caused it).
        if (!child.quitted() && !child.waiting()) {
            TaggedLogger.debug(tag, "[children][end][" + (child.lastStage == null ? "start" : child.lastStage.nick())
                    + "]", () -> "[" + child.tag + "] " + child.name());
            child.state = Child.State.QUITTED;
            child.inMessage = false;
            reportEnd(child);
        }
    }

    private void invalidState(Child child, Status status, CommandType stage) {
        TaggedLogger.error(tag, "[children][error][invalid-state][" + status.nick() + "][" + stage.nick() + "]",
                "[" + child.tag + "] " + child.name());
        quit(child);
    }

    private void reportEnd(Child child) {
        if (child.endReported) {
            return;
        }
        child.endReported = true;
        if (!TaggedLogger.isEnabled(LogLevel.STATISTICS)) {
            return;
        }
        String last = child.lastStage == null ? "start" : child.lastStage.nick();
        Status status = child.status;
        String nick = status.isPass() ? "pass" : status.nick();
        String elapsed = CFormat.g(child.waitNanos / 1e9);
        TaggedLogger.statistics(TaggedLogger.NO_SESSION,
                "[milter][end][" + last + "][" + nick + "][" + elapsed + "](" + child.tag + "):", child.name());
    }

    private void compile(CommandType stage, Status status) {
        compiled.merge(stage, status, Status::moreSevere);
    }

    private Status compiledOrContinue(CommandType stage) {
        Status status = compiled.get(stage);
        return status == null || status == Status.NOT_CHANGE ? Status.CONTINUE : status;
    }

    /**
     * Turns a stage's status into the reply for the MTA, using the stored reply code when its class matches the
     * status. An invalid code is logged and the plain status sent instead (quirk Q4 fixed: upstream sent nothing).
     */
    private Reply emit(CommandType stage, Status status) {
        lastMtaStatus = status;
        switch (status) {
            case ACCEPT:
                return Reply.Accept.INSTANCE;
            case DISCARD:
                return Reply.Discard.INSTANCE;
            case REJECT:
            case TEMPORARY_FAILURE: {
                String code = replyCode;
                boolean temporary = status == Status.TEMPORARY_FAILURE;
                if (code != null && code.startsWith(temporary ? "4" : "5")) {
                    replyCode = null;
                    String problem = ReplyCodeCheck.problem(code);
                    if (problem == null) {
                        return new Reply.ReplyCode(code);
                    }
                    TaggedLogger.error(tag, "[leader][error][reply-code]", problem);
                }
                return temporary ? Reply.TemporaryFailure.INSTANCE : Reply.Reject.INSTANCE;
            }
            default:
                return Reply.Continue.INSTANCE;
        }
    }

    private static Status statusOf(Reply reply) {
        switch (reply.type()) {
            case CONTINUE:
                return Status.CONTINUE;
            case ACCEPT:
                return Status.ACCEPT;
            case REJECT:
                return Status.REJECT;
            case TEMPORARY_FAILURE:
            case CONNECTION_FAILURE:
            case SHUTDOWN:
                return Status.TEMPORARY_FAILURE;
            case DISCARD:
                return Status.DISCARD;
            case REPLY_CODE:
                return ((Reply.ReplyCode) reply).status();
            case SKIP:
                return Status.SKIP;
            default:
                return Status.CONTINUE;
        }
    }

    private static boolean isRefusal(Status status) {
        return status == Status.REJECT || status == Status.TEMPORARY_FAILURE || status == Status.DISCARD;
    }

    private static boolean isEnvelopeStage(CommandType stage) {
        return stage == CommandType.ENVELOPE_FROM || stage == CommandType.ENVELOPE_RECIPIENT
                || stage == CommandType.DATA;
    }

    private static boolean isMessageStage(CommandType stage) {
        return stage == CommandType.HEADER || stage == CommandType.END_OF_HEADER || stage == CommandType.BODY
                || stage == CommandType.END_OF_MESSAGE;
    }

    /** Adapts header values to children that did not negotiate leading spaces when the MTA did. */
    private Command forChild(Child child, Command command) {
        if (command instanceof Command.Header header && mtaLeadingSpace() && !child.wantsLeadingSpace()
                && header.value().startsWith(" ")) {
            return new Command.Header(header.name(), header.value().substring(1));
        }
        return command;
    }

    private String fromChild(Child child, String value) {
        if (mtaLeadingSpace() && !child.wantsLeadingSpace()) {
            return " " + value;
        }
        return value;
    }

    private boolean mtaLeadingSpace() {
        return replyOption != null && replyOption.has(ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE);
    }

    /** Sends the child the macros of a stage: the MTA's table plus what conditions set, names sorted. */
    private void sendMacros(Child child, CommandType stage) {
        Map<String, String> table = mtaMacros == null ? null : mtaMacros.stage(stage);
        Map<String, String> extra = child.conditionMacros.isEmpty() ? null : child.conditionMacros.remove(stage);
        if (extra == null || extra.isEmpty()) {
            if (table != null && !table.isEmpty()) {
                child.channel.sendMacros(mtaMacrosFor(stage, table));
            }
            return;
        }
        child.channel.sendMacros(sortedMacros(stage, table, extra));
    }

    /** The MTA's macros of a stage as sent to children: built once per table, shared by every child. */
    private Command.DefineMacro mtaMacrosFor(CommandType stage, Map<String, String> table) {
        int index = stage.ordinal();
        if (macroTables[index] != table) {
            macroTables[index] = table;
            macroPackets[index] = sortedMacros(stage, table, null);
        }
        return macroPackets[index];
    }

    private static Command.DefineMacro sortedMacros(CommandType stage, Map<String, String> table,
            Map<String, String> extra) {
        TreeMap<String, String> sorted = new TreeMap<>();
        if (table != null) {
            table.forEach((name, value) -> sorted.put(Macros.wireName(name), value));
        }
        if (extra != null) {
            extra.forEach((name, value) -> sorted.put(Macros.wireName(name), value));
        }
        return new Command.DefineMacro(stage, sorted);
    }

    // ------------------------------------------------------------------------------------- applicable conditions

    private boolean stoppedAt(Child child, CommandType stage, Command command) {
        if (child.conditions.isEmpty() || !child.hasStopper(stage)) {
            return false;
        }
        ChildStopperContext context = stopperContext(child, stage);
        for (ApplicableCondition condition : child.conditions) {
            if (!condition.hasStopper(stage)) {
                continue;
            }
            boolean stop;
            try {
                stop = callStopper(condition, context, stage, command);
            } catch (RuntimeException e) {
                TaggedLogger.error(tag, "[children][error][applicable-condition][" + stage.nick() + "]",
                        condition.name() + ": " + e.getClass().getName() + ": " + e.getMessage() + ": "
                                + child.name());
                stop = false;
            }
            if (stop) {
                return true;
            }
        }
        return false;
    }

    private boolean callStopper(ApplicableCondition condition, ChildStopperContext context, CommandType stage,
            Command command) {
        switch (stage) {
            case CONNECT:
                return condition.stopOnConnect(context, clientHost, clientAddress);
            case HELO:
                return condition.stopOnHelo(context, ((Command.Helo) command).fqdn());
            case ENVELOPE_FROM:
                return condition.stopOnEnvelopeFrom(context, ((Command.EnvelopeFrom) command).address());
            case ENVELOPE_RECIPIENT:
                return condition.stopOnEnvelopeRecipient(context, ((Command.EnvelopeRecipient) command).address());
            case DATA:
                return condition.stopOnData(context);
            case HEADER: {
                Command.Header header = (Command.Header) command;
                return condition.stopOnHeader(context, header.name(), header.value());
            }
            case END_OF_HEADER:
                return condition.stopOnEndOfHeader(context);
            case BODY:
                return condition.stopOnBody(context, ((Command.Body) command).content());
            case END_OF_MESSAGE:
                return condition.stopOnEndOfMessage(context);
            default:
                return false;
        }
    }

    private ChildStopperContext stopperContext(Child child, CommandType stage) {
        return new ChildStopperContext(child, stage, children, mtaMacros, processingSessions, mailTransactionShelf);
    }

    /** What a stopped child means at each stage (§4.1 of the behaviour spec, with the data stage fixed). */
    private void applyStop(Child child, CommandType stage) {
        TaggedLogger.debug(tag, "[children][stop][" + stage.nick() + "]", () -> "[" + child.tag + "] " + child.name());
        child.stopped(stage);
        switch (stage) {
            case CONNECT:
            case HELO:
                child.channel.abort();
                quit(child);
                compile(stage, Status.ACCEPT);
                break;
            case ENVELOPE_FROM:
                child.inMessage = false;
                compile(stage, Status.CONTINUE);
                break;
            case ENVELOPE_RECIPIENT:
                compile(stage, Status.CONTINUE);
                break;
            default:
                // Data and message stages: the child leaves this message only; the others go on (Q2 fixed).
                child.channel.abort();
                child.inMessage = false;
                compile(stage, Status.ACCEPT);
                break;
        }
    }
}
