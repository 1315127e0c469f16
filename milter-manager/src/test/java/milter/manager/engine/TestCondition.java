package milter.manager.engine;

import io.netty.buffer.ByteBuf;
import java.util.EnumMap;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import milter.core.protocol.CommandType;
import milter.manager.condition.ApplicableCondition;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.StopperContext;

/**
 * A hand-written applicable condition for engine tests: one stopper per stage, each a predicate over the context
 * and the stage's main argument (host, fqdn, from, recipient, header "NAME: VALUE", body text; null for the others).
 * Every call is recorded as {@code STAGE CHILD ARGUMENT}.
 */
final class TestCondition implements ApplicableCondition {
    private final String name;
    private final EnumMap<CommandType, BiPredicate<StopperContext, String>> stoppers =
            new EnumMap<>(CommandType.class);
    private BiFunction<StopperContext, String, CompletionStage<Boolean>> asyncConnect;
    final List<String> calls = new CopyOnWriteArrayList<>();

    TestCondition(String name) {
        this.name = name;
    }

    TestCondition stopper(CommandType stage, BiPredicate<StopperContext, String> stop) {
        stoppers.put(stage, stop);
        return this;
    }

    /** A connect stopper that answers later (as a DNS-based condition would). */
    TestCondition asyncConnectStopper(BiFunction<StopperContext, String, CompletionStage<Boolean>> stop) {
        this.asyncConnect = stop;
        return this;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "test condition " + name;
    }

    @Override
    public boolean hasStopper(CommandType stage) {
        return stoppers.containsKey(stage) || (stage == CommandType.CONNECT && asyncConnect != null);
    }

    private boolean ask(CommandType stage, StopperContext context, String argument) {
        calls.add(stage.nick() + " " + context.name() + " " + argument);
        BiPredicate<StopperContext, String> stop = stoppers.get(stage);
        return stop != null && stop.test(context, argument);
    }

    @Override
    public boolean stopOnConnect(StopperContext context, String host, ClientAddress address) {
        return ask(CommandType.CONNECT, context, host + " " + address);
    }

    @Override
    public CompletionStage<Boolean> stopOnConnectAsync(StopperContext context, String host, ClientAddress address) {
        if (asyncConnect == null) {
            return ApplicableCondition.super.stopOnConnectAsync(context, host, address);
        }
        calls.add("connect " + context.name() + " " + host + " " + address);
        return asyncConnect.apply(context, host);
    }

    @Override
    public boolean stopOnHelo(StopperContext context, String fqdn) {
        return ask(CommandType.HELO, context, fqdn);
    }

    @Override
    public boolean stopOnEnvelopeFrom(StopperContext context, String from) {
        return ask(CommandType.ENVELOPE_FROM, context, from);
    }

    @Override
    public boolean stopOnEnvelopeRecipient(StopperContext context, String recipient) {
        return ask(CommandType.ENVELOPE_RECIPIENT, context, recipient);
    }

    @Override
    public boolean stopOnData(StopperContext context) {
        return ask(CommandType.DATA, context, null);
    }

    @Override
    public boolean stopOnHeader(StopperContext context, String headerName, String value) {
        return ask(CommandType.HEADER, context, headerName + ": " + value);
    }

    @Override
    public boolean stopOnEndOfHeader(StopperContext context) {
        return ask(CommandType.END_OF_HEADER, context, null);
    }

    @Override
    public boolean stopOnBody(StopperContext context, ByteBuf chunk) {
        return ask(CommandType.BODY, context, chunk.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Override
    public boolean stopOnEndOfMessage(StopperContext context) {
        return ask(CommandType.END_OF_MESSAGE, context, null);
    }
}
