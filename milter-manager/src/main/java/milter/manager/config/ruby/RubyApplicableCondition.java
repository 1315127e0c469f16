package milter.manager.config.ruby;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import milter.core.log.TaggedLogger;
import milter.core.protocol.CommandType;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.StopperContext;
import org.jruby.Ruby;
import org.jruby.RubyProc;
import org.jruby.javasupport.JavaUtil;
import org.jruby.runtime.ThreadContext;
import org.jruby.runtime.builtin.IRubyObject;

/**
 * An applicable condition defined in Ruby. Each stage's stoppers are asked in definition order until one answers
 * a true value. A stopper that raises answers "don't stop"; the exception is logged with
 * {@code [children][error][applicable-condition][STAGE]} (condition name, class, message, then one line per
 * backtrace frame). The engine is told about the stages that have stoppers only, so it never enters JRuby for
 * the others.
 *
 * <p>A connect stopper may answer with a {@link CompletionStage} (for example {@code dnsbl.unless_listed}):
 * the condition then answers asynchronously, true as soon as one deferred answer is true. Synchronous answers are
 * taken first, in order, so a deferred one never delays a stopper that stops at once.
 *
 * <p>Stoppers run on event-loop threads, several at a time: JRuby allows concurrent calls, and the built-in
 * conditions only read state that the configuration load wrote before the snapshot was published.
 */
public final class RubyApplicableCondition implements ApplicableCondition {
    private static final CompletableFuture<Boolean> STOP = CompletableFuture.completedFuture(true);
    private static final CompletableFuture<Boolean> GO = CompletableFuture.completedFuture(false);

    private final RubyRuntime runtime;
    private final String name;
    private final String description;
    private final RubyProc[][] stoppers = new RubyProc[CommandType.values().length][];
    private final IRubyObject rubyName;

    RubyApplicableCondition(RubyRuntime runtime, String name, String description,
            Map<CommandType, List<RubyProc>> stoppers) {
        this.runtime = runtime;
        this.name = name;
        this.description = description;
        for (CommandType stage : CommandType.values()) {
            List<RubyProc> procs = stoppers.get(stage);
            this.stoppers[stage.ordinal()] = procs == null ? new RubyProc[0] : procs.toArray(new RubyProc[0]);
        }
        this.rubyName = runtime.ruby().newString(name).freeze(runtime.ruby().getCurrentContext());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public boolean hasStopper(CommandType stage) {
        return stoppers[stage.ordinal()].length > 0;
    }

    /** Answers with what is known now; a deferred answer that is still pending counts as "don't stop". */
    @Override
    public boolean stopOnConnect(StopperContext context, String host, ClientAddress address) {
        return stopOnConnectAsync(context, host, address).toCompletableFuture().getNow(false);
    }

    @Override
    public CompletionStage<Boolean> stopOnConnectAsync(StopperContext context, String host, ClientAddress address) {
        RubyProc[] procs = stoppers[CommandType.CONNECT.ordinal()];
        if (procs.length == 0) {
            return GO;
        }
        Ruby ruby = runtime.ruby();
        ThreadContext thread = ruby.getCurrentContext();
        IRubyObject[] args = {
                runtime.childContext(context), RubyStrings.wire(ruby, host), runtime.socketAddress(thread, address)};
        List<CompletionStage<?>> deferred = null;
        for (RubyProc proc : procs) {
            IRubyObject answer = call(thread, proc, CommandType.CONNECT, context, args);
            if (answer == null) {
                continue;
            }
            Object wrapped = JavaUtil.isJavaObject(answer) ? JavaUtil.unwrapJavaObject(answer) : null;
            if (wrapped instanceof CompletionStage<?> stage) {
                if (deferred == null) {
                    deferred = new ArrayList<>(2);
                }
                deferred.add(stage);
            } else if (answer.isTrue()) {
                return STOP;
            }
        }
        return deferred == null ? GO : anyTrue(context, deferred);
    }

    private CompletionStage<Boolean> anyTrue(StopperContext context, List<CompletionStage<?>> deferred) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        AtomicInteger remaining = new AtomicInteger(deferred.size());
        long session = context.sessionId();
        for (CompletionStage<?> stage : deferred) {
            stage.whenComplete((value, error) -> {
                if (error != null) {
                    TaggedLogger.error(session, tag(CommandType.CONNECT),
                            name + ": " + error.getClass().getName() + ": " + error.getMessage());
                } else if (truthy(value)) {
                    result.complete(true);
                }
                if (remaining.decrementAndGet() == 0) {
                    result.complete(false);
                }
            });
        }
        return result;
    }

    private static boolean truthy(Object value) {
        if (value == null) {
            return false;
        }
        if (value instanceof Boolean) {
            return (Boolean) value;
        }
        if (value instanceof IRubyObject) {
            return ((IRubyObject) value).isTrue();
        }
        return true;
    }

    @Override
    public boolean stopOnHelo(StopperContext context, String fqdn) {
        return stop(CommandType.HELO, context, RubyStrings.wire(runtime.ruby(), fqdn));
    }

    @Override
    public boolean stopOnEnvelopeFrom(StopperContext context, String from) {
        return stop(CommandType.ENVELOPE_FROM, context, RubyStrings.wire(runtime.ruby(), from));
    }

    @Override
    public boolean stopOnEnvelopeRecipient(StopperContext context, String recipient) {
        return stop(CommandType.ENVELOPE_RECIPIENT, context, RubyStrings.wire(runtime.ruby(), recipient));
    }

    @Override
    public boolean stopOnData(StopperContext context) {
        return stop(CommandType.DATA, context);
    }

    @Override
    public boolean stopOnHeader(StopperContext context, String name, String value) {
        Ruby ruby = runtime.ruby();
        return stop(CommandType.HEADER, context, RubyStrings.wire(ruby, name), RubyStrings.wire(ruby, value));
    }

    @Override
    public boolean stopOnEndOfHeader(StopperContext context) {
        return stop(CommandType.END_OF_HEADER, context);
    }

    /** Upstream passes the condition name before the chunk (behaviour spec Q9); kept for compatibility. */
    @Override
    public boolean stopOnBody(StopperContext context, ByteBuf chunk) {
        if (!hasStopper(CommandType.BODY)) {
            return false;
        }
        return stop(CommandType.BODY, context, rubyName, RubyStrings.bytes(runtime.ruby(), chunk));
    }

    @Override
    public boolean stopOnEndOfMessage(StopperContext context) {
        return stop(CommandType.END_OF_MESSAGE, context);
    }

    private boolean stop(CommandType stage, StopperContext context, IRubyObject... rest) {
        RubyProc[] procs = stoppers[stage.ordinal()];
        if (procs.length == 0) {
            return false;
        }
        ThreadContext thread = runtime.ruby().getCurrentContext();
        IRubyObject[] args = new IRubyObject[rest.length + 1];
        args[0] = runtime.childContext(context);
        System.arraycopy(rest, 0, args, 1, rest.length);
        for (RubyProc proc : procs) {
            IRubyObject answer = call(thread, proc, stage, context, args);
            if (answer != null && stops(answer)) {
                return true;
            }
        }
        return false;
    }

    /** Only connect stoppers may answer later; elsewhere a deferred answer counts if it is already known. */
    private static boolean stops(IRubyObject answer) {
        if (JavaUtil.isJavaObject(answer)
                && JavaUtil.unwrapJavaObject(answer) instanceof CompletionStage<?> deferred) {
            return truthy(deferred.toCompletableFuture().getNow(null));
        }
        return answer.isTrue();
    }

    /** Calls a stopper; null when it raised (logged). */
    private IRubyObject call(ThreadContext thread, RubyProc proc, CommandType stage, StopperContext context,
            IRubyObject[] args) {
        try {
            return proc.call(thread, args);
        } catch (RuntimeException | StackOverflowError e) {
            RubyErrors.log(context.sessionId(), tag(stage), name, e);
            return null;
        }
    }

    private static String tag(CommandType stage) {
        return "[children][error][applicable-condition][" + stage.nick() + "]";
    }
}
