package milter.manager;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
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
import milter.core.protocol.ReplyCodes;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.manager.message.BodyStore;
import milter.manager.message.HeaderDiff;
import milter.manager.message.HeaderList;

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

    private Message message;

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
        Counter pending = new Counter(children.size(), () -> replyNegotiate(result));
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

    private void connectChild(Child child, Counter pending) {
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
                    String reason = "Failed to connect to " + child.egg.connectionSpec() + ": " + failure.getMessage();
                    TaggedLogger.error(tag, "[children][error][connection]",
                            "[" + child.tag + "] " + reason + ": " + child.name());
                    TaggedLogger.error(tag, "[leader][error]", reason);
                    if (retryConnect(child)) {
                        child.connectRetried = true;
                        connector.startChild(child.egg, tag, child.tag);
                        loop.schedule(() -> connectChild(child, pending), RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
                        return;
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
            child.lastStage = CommandType.NEGOTIATE;
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
        child.endStatus = Status.ERROR;
        reportEnd(child);
    }

    private void replyNegotiate(CompletableFuture<Option> result) {
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
        replyOption = new Option(offer.version(), actions, noReply | yes, macroLists);
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
                expire(child, Status.ERROR);
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
        message = new Message();
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
                child.channel.abort();
                child.inMessage = false;
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
        if (eligible.isEmpty()) {
            return CompletableFuture.completedFuture(noChildFallback(stage));
        }
        CompletableFuture<Reply> result = new CompletableFuture<>();
        Counter pending = new Counter(eligible.size(), () -> result.complete(finishParallel(stage)));
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

    private void sendParallel(Child child, CommandType stage, Command command, Counter pending) {
        sendMacros(child, stage);
        child.lastStage = stage;
        child.startWaiting();
        child.channel.send(forChild(child, command)).whenComplete((reply, error) -> {
            child.stopWaiting();
            if (error != null) {
                Status fallback = fail(child, stage, ChildFailure.of(error));
                compile(stage, fallback);
            } else {
                onParallelAnswer(child, stage, reply);
            }
            pending.done();
        });
    }

    /** Asks the connect stoppers of a child in order; the first true stops it. Exceptions count as false. */
    private CompletionStage<Boolean> connectStopped(Child child) {
        ChildStopperContext context = new ChildStopperContext(child, CommandType.CONNECT);
        CompletionStage<Boolean> decision = CompletableFuture.completedFuture(false);
        for (ApplicableCondition condition : child.conditions) {
            if (!condition.hasStopper(CommandType.CONNECT)) {
                continue;
            }
            decision = decision.thenCompose(stopped -> {
                if (stopped) {
                    return CompletableFuture.completedFuture(true);
                }
                CompletionStage<Boolean> answer;
                try {
                    answer = condition.stopOnConnectAsync(context, clientHost, clientAddress);
                } catch (RuntimeException e) {
                    answer = CompletableFuture.failedFuture(e);
                }
                return answer.handle((stop, error) -> {
                    if (error != null) {
                        TaggedLogger.error(tag, "[children][error][applicable-condition][connect]",
                                condition.name() + ": " + error);
                        return false;
                    }
                    return Boolean.TRUE.equals(stop);
                });
            });
        }
        // An asynchronous answer may complete on another thread: come back to the session's loop.
        CompletableFuture<Boolean> onLoop = new CompletableFuture<>();
        decision.whenComplete((stop, error) -> {
            if (loop.inEventLoop()) {
                onLoop.complete(error == null && Boolean.TRUE.equals(stop));
            } else {
                loop.execute(() -> onLoop.complete(error == null && Boolean.TRUE.equals(stop)));
            }
        });
        return onLoop;
    }

    private Reply noChildFallback(CommandType stage) {
        String message;
        if (stage == CommandType.ENVELOPE_RECIPIENT || stage == CommandType.DATA || isMessageStage(stage)) {
            message = "None of milters are processing message.";
            TaggedLogger.error(tag, "[children][error][message-processing]", message);
        } else {
            message = "All milters are no longer alive.";
            TaggedLogger.error(tag, "[children][error][alive]", message);
        }
        TaggedLogger.error(tag, "[leader][error]", message);
        Status fallback = configuration.fallbackStatus();
        return emit(stage, fallback);
    }

    private void onParallelAnswer(Child child, CommandType stage, Reply reply) {
        Status status = statusOf(reply);
        child.lastStatus = status;
        boolean evaluation = child.egg.evaluationMode();
        if (reply instanceof Reply.ReplyCode code && !evaluation) {
            replyCode = code.reply();
        }
        Status counted = status;
        if (evaluation && isRefusal(status)) {
            TaggedLogger.debug(tag, "[children][evaluation][" + status.nick() + "][" + stage.nick() + "]",
                    () -> "[" + child.tag + "] " + child.name());
            counted = Status.ACCEPT;
        }
        switch (stage) {
            case CONNECT:
            case HELO:
                if (status == Status.DISCARD) {
                    invalidState(child, status, stage);
                } else if (status != Status.CONTINUE) {
                    quit(child, status);
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
                || status == Status.DISCARD) {
            if (stage == CommandType.ENVELOPE_FROM || stage == CommandType.ENVELOPE_RECIPIENT
                    || stage == CommandType.DATA) {
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
     * End of message: runs the remaining children, then sends {@code toMta} the merged modifications and
     * completes with the final reply.
     */
    public CompletionStage<Reply> endOfMessage(Command.EndOfMessage command, Consumer<Reply> toMta) {
        if (message != null) {
            message.toMta = toMta;
        }
        return messageCommand(CommandType.END_OF_MESSAGE, command);
    }

    private CompletionStage<Reply> messageCommand(CommandType stage, Command command) {
        lastMtaStage = stage;
        if (message == null) {
            // A message stage without MAIL (a v2 MTA that skipped it, or a confused one).
            message = new Message();
        }
        Message current = message;
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
        } catch (IOException e) {
            TaggedLogger.error(tag, "[children][error][body][" + (current.body.onDisk() ? "write" : "open") + "]",
                    e.getMessage());
            Reply reply = emit(stage, configuration.fallbackStatus());
            abortMessageChildren();
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
        Message current = message;
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
                child.channel.abort();
                child.inMessage = false;
            }
        }
        if (current.queue.isEmpty()) {
            current.finished = true;
            return CompletableFuture.completedFuture(noChildFallback(stage));
        }
        return null;
    }

    private void record(Message current, CommandType stage, Command command) throws IOException {
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
        Message current = message;
        current.child = null;
        current.streaming = false;
        while (!current.queue.isEmpty()) {
            Child child = current.queue.poll();
            if (!child.alive() || !child.inMessage) {
                continue;
            }
            current.child = child;
            current.replay = new Replay(current);
            replayNext();
            return;
        }
        current.finished = true;
        answerPending();
    }

    /** Sends the next replayed event to the current child, or turns it into the streaming child when caught up. */
    private void replayNext() {
        Message current = message;
        Child child = current.child;
        Replay replay = current.replay;
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
            } catch (IOException e) {
                TaggedLogger.error(tag, "[children][error][body][send]", e.getMessage());
                endMessage(CommandType.BODY, configuration.fallbackStatus());
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
        child.lastStage = stage;
        child.startWaiting();
        Message current = message;
        CompletableFuture<Reply> answer = child.channel.send(forChild(child, command)).toCompletableFuture();
        if (answer.isDone()) {
            loop.execute(() -> onStepAnswer(child, stage, current, answer));
        } else {
            answer.whenComplete((reply, error) -> onStepAnswer(child, stage, current, answer));
        }
    }

    private void onStepAnswer(Child child, CommandType stage, Message current, CompletableFuture<Reply> answer) {
        child.stopWaiting();
        if (message != current || current.child != child) {
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
        Message current = message;
        Status status = statusOf(reply);
        child.lastStatus = status;
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
            // The verdict is only reported: the child leaves this message, the others go on.
            compile(stage, Status.ACCEPT);
            child.channel.abort();
            child.inMessage = false;
            nextChild();
            return;
        }
        if (reply instanceof Reply.ReplyCode code) {
            replyCode = code.reply();
        }
        compile(stage, status);
        endMessage(stage, compiled.get(stage));
    }

    private void onPipelineFailure(Child child, CommandType stage, ChildFailure failure) {
        Status fallback = fail(child, stage, failure);
        compile(stage, fallback);
        if (isRefusal(fallback)) {
            endMessage(stage, compiled.get(stage));
        } else {
            nextChild();
        }
    }

    private void sendEndOfMessage(Child child) {
        Message current = message;
        CommandType stage = CommandType.END_OF_MESSAGE;
        if (stoppedAt(child, stage, null)) {
            applyStop(child, stage);
            nextChild();
            return;
        }
        sendMacros(child, stage);
        child.lastStage = stage;
        child.startWaiting();
        ByteBuf data = current.endOfMessageData == null ? Unpooled.EMPTY_BUFFER : current.endOfMessageData;
        child.channel.endOfMessage(data, modification -> onModification(child, modification))
                .whenComplete((reply, error) -> {
                    child.stopWaiting();
                    if (message != current || current.child != child) {
                        return;
                    }
                    if (error != null) {
                        onPipelineFailure(child, stage, ChildFailure.of(error));
                        return;
                    }
                    Status status = statusOf(reply);
                    child.lastStatus = status;
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
        Message current = message;
        if (current == null) {
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
                } catch (IOException e) {
                    TaggedLogger.error(tag, "[children][error][body][write]", e.getMessage());
                }
                return;
            }
            case ADD_RECIPIENT:
            case ADD_RECIPIENT_WITH_PARAMETERS:
            case DELETE_RECIPIENT:
            case PROGRESS:
                if (!evaluationDrop(child, evaluation, modification) && current.toMta != null) {
                    current.toMta.accept(modification);
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
        Message current = message;
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
        Message current = message;
        Status status = compiledOrContinue(CommandType.END_OF_MESSAGE);
        if (current != null && current.toMta != null) {
            emitModifications(current);
        }
        Reply reply = emit(CommandType.END_OF_MESSAGE, status);
        for (Child child : children) {
            child.resetMessage();
        }
        dropMessage();
        return reply;
    }

    private void emitModifications(Message current) {
        Consumer<Reply> toMta = current.toMta;
        if (current.bodyReplaced) {
            long offset = 0;
            int chunkSize = configuration.chunkSize();
            try {
                if (current.body.size() == 0) {
                    toMta.accept(new Reply.ReplaceBody(Unpooled.EMPTY_BUFFER));
                }
                while (offset < current.body.size()) {
                    ByteBuf chunk = current.body.read(offset, chunkSize, ByteBufAllocator.DEFAULT);
                    offset += chunk.readableBytes();
                    toMta.accept(new Reply.ReplaceBody(chunk));
                }
            } catch (IOException e) {
                TaggedLogger.error(tag, "[children][error][body][send]", e.getMessage());
            }
        }
        for (Reply reply : HeaderDiff.diff(current.originalHeaders, current.headers)) {
            if (reply instanceof Reply.InsertHeader insert) {
                logSessionHeader(insert.name(), insert.value());
            } else if (reply instanceof Reply.ChangeHeader change && !change.value().isEmpty()) {
                logSessionHeader(change.name(), change.value());
            }
            toMta.accept(reply);
        }
        if (current.changeFrom != null) {
            toMta.accept(current.changeFrom);
        }
        if (current.quarantine != null) {
            TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[reply][end-of-message][quarantine](" + tag + ")", "");
            toMta.accept(current.quarantine);
        }
    }

    private void logSessionHeader(String name, String value) {
        TaggedLogger.log(LogLevel.STATISTICS, TaggedLogger.NO_SESSION, "[session][header][add](" + tag + "):",
                () -> "<" + name + ">=<" + value + ">");
    }

    /** A message-ending verdict: reply it at once (with the modifications so far at end of message). */
    private void endMessage(CommandType stage, Status status) {
        Message current = message;
        if (current == null) {
            return;
        }
        current.finished = true;
        current.child = null;
        abortMessageChildren();
        CompletableFuture<Reply> pending = current.pending;
        current.pending = null;
        Reply reply = stage == CommandType.END_OF_MESSAGE ? finishMessage() : emit(stage, status);
        if (stage != CommandType.END_OF_MESSAGE) {
            // The MTA will abort or end the message; nothing else of it reaches a child.
            current.queue.clear();
        }
        if (pending != null) {
            pending.complete(reply);
        }
    }

    // -------------------------------------------------------------------------------------- abort, quit, close

    /** MTA abort: children inside the message get abort; message data is dropped; no reply. */
    public void abort() {
        abortMessageChildren();
        mailTransactionShelf.clear();
        dropMessage();
        for (Child child : children) {
            child.resetMessage();
        }
    }

    /** MTA quit: every child still connected gets quit. */
    public void quit() {
        for (Child child : children) {
            if (!child.quitted() && child.channel != null) {
                quit(child, null);
            }
        }
        finish();
    }

    /** The MTA connection is gone: children inside a message get abort, then every child quits. */
    public void close() {
        abortMessageChildren();
        quit();
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        for (Child child : children) {
            if (!child.endReported && child.state != Child.State.CONNECTING) {
                reportEnd(child);
            }
        }
        dropMessage();
    }

    private void abortMessageChildren() {
        for (Child child : children) {
            if (child.alive() && child.inMessage) {
                child.channel.abort();
            }
            child.inMessage = false;
        }
    }

    private void dropMessage() {
        Message current = message;
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

    private void quit(Child child, Status status) {
        if (child.quitted()) {
            return;
        }
        child.state = Child.State.QUITTED;
        if (status != null) {
            child.endStatus = status;
        } else if (child.lastStatus != null) {
            child.endStatus = child.lastStatus;
        }
        child.channel.quit();
        reportEnd(child);
    }

    /** A failed child: expired for the rest of the session; returns its fallback status. */
    private Status fail(Child child, CommandType stage, ChildFailure failure) {
        Status fallback = child.egg.fallbackStatus();
        if (child.quitted()) {
            return fallback;
        }
        String state = stage.nick();
        String tags;
        String text;
        if (failure.kind().isTimeout()) {
            tags = "[children][timeout][" + failure.kind().tag() + "][" + state + "][" + fallback.nick() + "]";
            text = "[" + child.tag + "] " + child.name();
        } else {
            tags = "[children][error][" + state + "][" + fallback.nick() + "]";
            text = "[" + child.tag + "] " + failure.getMessage() + ": " + child.name();
        }
        TaggedLogger.error(tag, tags, text);
        expire(child, Status.ERROR);
        return fallback;
    }

    private void expire(Child child, Status endStatus) {
        if (child.quitted()) {
            return;
        }
        child.state = Child.State.QUITTED;
        child.endStatus = endStatus;
        child.inMessage = false;
        if (child.channel != null) {
            child.channel.close();
        }
        reportEnd(child);
    }

    private void childClosed(Child child) {
        if (!child.quitted()) {
            TaggedLogger.debug(tag, "[children][unexpected]",
                    () -> "[" + child.tag + "] finish without receiving response: " + child.name());
            child.state = Child.State.QUITTED;
            child.inMessage = false;
            reportEnd(child);
        }
    }

    private void invalidState(Child child, Status status, CommandType stage) {
        TaggedLogger.error(tag, "[children][error][invalid-state][" + status.nick() + "][" + stage.nick() + "]",
                "[" + child.tag + "] " + child.name());
        quit(child, status);
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
        Status status = child.endStatus;
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

    /** Turns a stage's status into the reply for the MTA, using a stored reply code when its class matches. */
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
                    try {
                        ReplyCodes.validate(code);
                        return new Reply.ReplyCode(code);
                    } catch (IllegalArgumentException e) {
                        TaggedLogger.error(tag, "[leader][error][reply-code]", e.getMessage());
                    }
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
        Map<String, String> extra = child.conditionMacros.remove(stage);
        if ((table == null || table.isEmpty()) && (extra == null || extra.isEmpty())) {
            return;
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        if (table != null) {
            table.forEach((name, value) -> sorted.put(Macros.wireName(name), value));
        }
        if (extra != null) {
            extra.forEach((name, value) -> sorted.put(Macros.wireName(name), value));
        }
        child.channel.sendMacros(new Command.DefineMacro(stage, sorted));
    }

    // ------------------------------------------------------------------------------------- applicable conditions

    private boolean stoppedAt(Child child, CommandType stage, Command command) {
        if (child.conditions.isEmpty() || !child.hasStopper(stage)) {
            return false;
        }
        ChildStopperContext context = new ChildStopperContext(child, stage);
        for (ApplicableCondition condition : child.conditions) {
            if (!condition.hasStopper(stage)) {
                continue;
            }
            boolean stop;
            try {
                stop = callStopper(condition, context, stage, command);
            } catch (RuntimeException e) {
                TaggedLogger.error(tag, "[children][error][applicable-condition][" + stage.nick() + "]",
                        condition.name() + ": " + e.getClass().getName() + ": " + e.getMessage());
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

    /** What a stopped child means at each stage (§4.1 of the behaviour spec, with the data stage fixed). */
    private void applyStop(Child child, CommandType stage) {
        TaggedLogger.debug(tag, "[children][stop][" + stage.nick() + "]", () -> "[" + child.tag + "] " + child.name());
        switch (stage) {
            case CONNECT:
            case HELO:
                quit(child, Status.STOP);
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
                // Data and message stages: the child leaves this message only; the others go on.
                child.channel.abort();
                child.inMessage = false;
                compile(stage, Status.ACCEPT);
                break;
        }
    }

    /** The {@code context} a stopper sees. */
    private final class ChildStopperContext implements milter.manager.condition.StopperContext {
        private final Child child;
        private final CommandType stage;

        ChildStopperContext(Child child, CommandType stage) {
            this.child = child;
            this.stage = stage;
        }

        @Override
        public String name() {
            return child.name();
        }

        @Override
        public String macro(String name) {
            Map<String, String> extra = child.conditionMacros.get(stage);
            String key = Macros.normalize(name);
            if (extra != null && extra.containsKey(key)) {
                return extra.get(key);
            }
            return mtaMacros == null ? null : mtaMacros.get(key, stage);
        }

        @Override
        public void setMacro(String name, String value) {
            child.setConditionMacro(stage, Macros.normalize(name), value);
        }

        @Override
        public Status status() {
            return child.lastStatus;
        }

        @Override
        public boolean quitted() {
            return child.quitted();
        }

        @Override
        public Map<String, milter.manager.condition.StopperContext> children() {
            Map<String, milter.manager.condition.StopperContext> all = new LinkedHashMap<>();
            for (Child other : children) {
                all.put(other.name(), new ChildStopperContext(other, stage));
            }
            return all;
        }

        @Override
        public int processingSessions() {
            return processingSessions.getAsInt();
        }

        @Override
        public Map<String, Object> mailTransactionShelf() {
            return mailTransactionShelf;
        }
    }

    /** Runs an action once a number of outstanding answers have all arrived. */
    private static final class Counter {
        private int remaining;
        private final Runnable done;

        Counter(int remaining, Runnable done) {
            this.remaining = remaining;
            this.done = done;
        }

        void done() {
            if (--remaining == 0) {
                done.run();
            }
        }
    }

    /** Where a replayed child is in the message. */
    private static final class Replay {
        int headerIndex;
        boolean endOfHeaderSent;
        long bodyOffset;
        boolean endOfMessageSent;

        Replay(Message message) {
        }
    }

    /** The message being processed: headers, body, the sequential pipeline and what children asked to change. */
    private final class Message {
        final HeaderList originalHeaders = new HeaderList();
        final HeaderList headers = new HeaderList();
        final BodyStore body = new BodyStore(BodyStore.DEFAULT_MEMORY_THRESHOLD,
                java.nio.file.Path.of(System.getProperty("java.io.tmpdir")));
        final java.util.ArrayDeque<Child> queue = new java.util.ArrayDeque<>();
        boolean started;
        boolean finished;
        boolean sawHeader;
        boolean sawEndOfHeader;
        boolean sawBody;
        boolean sawEndOfMessage;
        ByteBuf endOfMessageData;
        Child child;
        boolean streaming;
        Replay replay;
        CompletableFuture<Reply> pending;
        CommandType pendingStage;
        Consumer<Reply> toMta;
        Reply.ChangeFrom changeFrom;
        Reply.Quarantine quarantine;
        boolean bodyReplaced;
        Child bodyReplacer;

        void release() {
            body.close();
            if (endOfMessageData != null) {
                endOfMessageData.release();
                endOfMessageData = null;
            }
        }
    }
}
