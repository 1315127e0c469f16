package milter.manager.engine;

import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.client.MilterClient;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.Reply;

/**
 * A child milter for engine tests, on our own milter-client: answers each stage as scripted, makes the scripted
 * modifications at end of message, and records every event it sees (in order, as text) so tests can assert what
 * the manager sent to which child.
 */
final class ScriptedChild implements AutoCloseable {
    final String name;
    final List<String> events = new CopyOnWriteArrayList<>();
    private final EnumMap<CommandType, Function<Command, Reply>> replies = new EnumMap<>(CommandType.class);
    private final List<java.util.function.Supplier<Reply>> modifications = new ArrayList<>();
    private final EnumMap<CommandType, Long> delays = new EnumMap<>(CommandType.class);
    private volatile int protocolFlags;
    private volatile int version = 6;
    private final MilterClient client;
    private final CompletableFuture<Void> closed = new CompletableFuture<>();

    ScriptedChild(String name, EventLoopGroup group) {
        this.name = name;
        this.client = MilterClient.builder(ConnectionSpec.parse("inet:0@[127.0.0.1]"), ctx -> new Scripted())
                .eventLoopGroup(group).build();
    }

    ScriptedChild start() {
        client.start().toCompletableFuture().join();
        return this;
    }

    ConnectionSpec spec() {
        return client.boundSpec();
    }

    ScriptedChild reply(CommandType stage, Reply reply) {
        replies.put(stage, command -> reply);
        return this;
    }

    ScriptedChild reply(CommandType stage, Function<Command, Reply> answer) {
        replies.put(stage, answer);
        return this;
    }

    /** Answer recipients matching {@code address} with {@code reply}, others continue. */
    ScriptedChild replyRecipient(String address, Reply reply) {
        Function<Command, Reply> previous = replies.get(CommandType.ENVELOPE_RECIPIENT);
        replies.put(CommandType.ENVELOPE_RECIPIENT, command -> {
            if (((Command.EnvelopeRecipient) command).address().equals(address)) {
                return reply;
            }
            return previous == null ? Reply.Continue.INSTANCE : previous.apply(command);
        });
        return this;
    }

    ScriptedChild modify(Reply... packets) {
        for (Reply packet : packets) {
            modifications.add(() -> packet);
        }
        return this;
    }

    /** Replace the body with {@code text} (one packet per call) at end of message. */
    ScriptedChild replaceBody(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        modifications.add(() -> new Reply.ReplaceBody(Unpooled.wrappedBuffer(bytes)));
        return this;
    }

    ScriptedChild protocol(int flags) {
        this.protocolFlags = flags;
        return this;
    }

    ScriptedChild version(int newVersion) {
        this.version = newVersion;
        return this;
    }

    /** Never answer this stage (a hanging child), or answer after {@code millis}. */
    ScriptedChild delay(CommandType stage, long millis) {
        delays.put(stage, millis);
        return this;
    }

    List<String> events() {
        return List.copyOf(events);
    }

    /** The events after the negotiation and connection-level ones, for message assertions. */
    List<String> eventsFrom(String first) {
        List<String> all = events();
        int index = all.indexOf(first);
        return index < 0 ? List.of() : all.subList(index, all.size());
    }

    CompletableFuture<Void> closed() {
        return closed;
    }

    @Override
    public void close() {
        client.close();
    }

    private final class Scripted implements Milter {
        @Override
        public CompletionStage<Option> negotiate(ClientContext context, Option offer) {
            events.add("negotiate " + offer.version());
            return CompletableFuture.completedFuture(new Option(Math.min(version, offer.version()), offer.actions(),
                    protocolFlags));
        }

        private CompletionStage<Reply> answer(ClientContext context, CommandType stage, Command command, String event) {
            events.add(event);
            Function<Command, Reply> script = replies.get(stage);
            Reply reply = script == null ? Reply.Continue.INSTANCE : script.apply(command);
            Long delay = delays.get(stage);
            if (delay == null) {
                return CompletableFuture.completedFuture(reply);
            }
            CompletableFuture<Reply> later = new CompletableFuture<>();
            if (delay >= 0) {
                context.eventLoop().schedule(() -> later.complete(reply), delay, TimeUnit.MILLISECONDS);
            }
            return later;
        }

        @Override
        public CompletionStage<Reply> connect(ClientContext context, Command.Connect connect) {
            return answer(context, CommandType.CONNECT, connect, "connect " + connect.host() + " " + connect.address()
                    + macros(context, CommandType.CONNECT));
        }

        @Override
        public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
            return answer(context, CommandType.HELO, helo, "helo " + helo.fqdn());
        }

        @Override
        public CompletionStage<Reply> envelopeFrom(ClientContext context, Command.EnvelopeFrom from) {
            return answer(context, CommandType.ENVELOPE_FROM, from, "mail " + from.address()
                    + (from.parameters().isEmpty() ? "" : " " + String.join(" ", from.parameters()))
                    + macros(context, CommandType.ENVELOPE_FROM));
        }

        @Override
        public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient rcpt) {
            return answer(context, CommandType.ENVELOPE_RECIPIENT, rcpt, "rcpt " + rcpt.address());
        }

        @Override
        public CompletionStage<Reply> data(ClientContext context) {
            return answer(context, CommandType.DATA, Command.Data.INSTANCE, "data");
        }

        @Override
        public CompletionStage<Reply> unknown(ClientContext context, Command.Unknown unknown) {
            return answer(context, CommandType.UNKNOWN, unknown, "unknown " + unknown.command());
        }

        @Override
        public CompletionStage<Reply> header(ClientContext context, Command.Header header) {
            return answer(context, CommandType.HEADER, header, "header " + header.name() + "=" + header.value());
        }

        @Override
        public CompletionStage<Reply> endOfHeader(ClientContext context) {
            return answer(context, CommandType.END_OF_HEADER, Command.EndOfHeader.INSTANCE, "eoh");
        }

        @Override
        public CompletionStage<Reply> body(ClientContext context, Command.Body body) {
            return answer(context, CommandType.BODY, body,
                    "body " + body.content().toString(StandardCharsets.ISO_8859_1));
        }

        @Override
        public CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage eom) {
            String data = eom.content().isReadable() ? " " + eom.content().toString(StandardCharsets.ISO_8859_1) : "";
            for (java.util.function.Supplier<Reply> modification : modifications) {
                context.send(modification.get());
            }
            return answer(context, CommandType.END_OF_MESSAGE, eom, "eom" + data);
        }

        @Override
        public CompletionStage<Void> abort(ClientContext context) {
            events.add("abort");
            return Milter.done();
        }

        @Override
        public CompletionStage<Void> quit(ClientContext context) {
            events.add("quit");
            return Milter.done();
        }

        @Override
        public void closed(ClientContext context) {
            closed.complete(null);
        }

        private String macros(ClientContext context, CommandType stage) {
            Map<String, String> table = context.macros().stage(stage);
            return table == null || table.isEmpty() ? "" : " " + new java.util.TreeMap<>(table);
        }
    }
}
