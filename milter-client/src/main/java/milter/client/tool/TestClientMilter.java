package milter.client.tool;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import milter.client.ClientContext;
import milter.client.Milter;
import milter.core.protocol.ActionFlags;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Option;
import milter.core.protocol.ProtocolFlags;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;

/**
 * The milter of {@code milter-test-client}: prints what it receives in upstream's format (unless quiet) and
 * answers as its {@link Script} says. Delays are event-loop timers, never sleeps.
 */
final class TestClientMilter implements Milter {
    private final Script script;
    private final PrintStream out;
    private final boolean report;
    private final boolean reportMemory;
    private final Runnable onClosed;

    TestClientMilter(Script script, PrintStream out, boolean report, boolean reportMemory, Runnable onClosed) {
        this.script = script;
        this.out = out;
        this.report = report;
        this.reportMemory = reportMemory;
        this.onClosed = onClosed;
    }

    @Override
    public CompletionStage<Option> negotiate(ClientContext context, Option offer) {
        if (report) {
            print(context, "negotiate: version=<" + offer.version() + ">, action=<"
                    + ActionFlags.toString(offer.actions()) + ">, step=<" + ProtocolFlags.toString(offer.protocol())
                    + ">", null);
        }
        // As upstream's test client: everything offered but the capabilities it does not use and all skip or
        // no-reply flags, plus what the script asks for.
        int protocol = offer.protocol() & ~(ProtocolFlags.ENVELOPE_RECIPIENT_REJECTED
                | ProtocolFlags.HEADER_VALUE_WITH_LEADING_SPACE | ProtocolFlags.NO_EVENT_MASK
                | ProtocolFlags.NO_REPLY_MASK | ProtocolFlags.INTERNAL_MASK);
        protocol |= script.protocolFlags;
        int actions = script.actions != null ? script.actions : offer.actions() & ~ActionFlags.SET_SYMBOL_LIST;
        Option wanted = new Option(offer.version(), actions, protocol, script.macroRequests);
        return later(context, Script.Stage.NEGOTIATE, () -> wanted);
    }

    @Override
    public CompletionStage<Reply> connect(ClientContext context, Command.Connect connect) {
        if (report) {
            print(context, "connect: host=<" + connect.host() + ">, address=<" + addressSpec(connect) + ">",
                    CommandType.CONNECT);
        }
        return reply(context, Script.Stage.CONNECT, script.replyFor(Script.Stage.CONNECT));
    }

    @Override
    public CompletionStage<Reply> helo(ClientContext context, Command.Helo helo) {
        if (report) {
            print(context, "helo: <" + helo.fqdn() + ">", CommandType.HELO);
        }
        return reply(context, Script.Stage.HELO, script.replyFor(Script.Stage.HELO));
    }

    @Override
    public CompletionStage<Reply> envelopeFrom(ClientContext context, Command.EnvelopeFrom from) {
        if (report) {
            print(context, "envelope-from: <" + from.address() + ">", CommandType.ENVELOPE_FROM);
        }
        return reply(context, Script.Stage.ENVELOPE_FROM, script.replyFor(Script.Stage.ENVELOPE_FROM));
    }

    @Override
    public CompletionStage<Reply> envelopeRecipient(ClientContext context, Command.EnvelopeRecipient recipient) {
        if (report) {
            print(context, "envelope-recipient: <" + recipient.address() + ">", CommandType.ENVELOPE_RECIPIENT);
        }
        Reply reply = script.recipientReplies.get(recipient.address());
        return reply(context, Script.Stage.ENVELOPE_RECIPIENT,
                reply != null ? reply : script.replyFor(Script.Stage.ENVELOPE_RECIPIENT));
    }

    @Override
    public CompletionStage<Reply> data(ClientContext context) {
        if (report) {
            print(context, "data", CommandType.DATA);
        }
        return reply(context, Script.Stage.DATA, script.replyFor(Script.Stage.DATA));
    }

    @Override
    public CompletionStage<Reply> unknown(ClientContext context, Command.Unknown unknown) {
        if (report) {
            print(context, "unknown: <" + unknown.command() + ">", CommandType.UNKNOWN);
        }
        return reply(context, Script.Stage.UNKNOWN, script.replyFor(Script.Stage.UNKNOWN));
    }

    @Override
    public CompletionStage<Reply> header(ClientContext context, Command.Header header) {
        if (report) {
            print(context, "header: <" + header.name() + ": " + header.value() + ">", CommandType.HEADER);
        }
        Reply reply = script.headerReplies.get(header.name().toLowerCase(Locale.ROOT));
        return reply(context, Script.Stage.HEADER, reply != null ? reply : script.replyFor(Script.Stage.HEADER));
    }

    @Override
    public CompletionStage<Reply> endOfHeader(ClientContext context) {
        if (report) {
            print(context, "end-of-header", CommandType.END_OF_HEADER);
        }
        return reply(context, Script.Stage.END_OF_HEADER, script.replyFor(Script.Stage.END_OF_HEADER));
    }

    @Override
    public CompletionStage<Reply> body(ClientContext context, Command.Body body) {
        if (report) {
            print(context, "body: <" + body.content().toString(StandardCharsets.ISO_8859_1) + ">", CommandType.BODY);
        }
        return reply(context, Script.Stage.BODY, script.replyFor(Script.Stage.BODY));
    }

    @Override
    public CompletionStage<Reply> endOfMessage(ClientContext context, Command.EndOfMessage endOfMessage) {
        if (report) {
            String data = endOfMessage.content().toString(StandardCharsets.ISO_8859_1);
            print(context, data.isEmpty() ? "end-of-message" : "end-of-message: <" + data + ">",
                    CommandType.END_OF_MESSAGE);
        }
        Reply reply = script.replyFor(Script.Stage.END_OF_MESSAGE);
        return later(context, Script.Stage.END_OF_MESSAGE, () -> {
            for (int i = 0; i < script.progress; i++) {
                context.send(Reply.Progress.INSTANCE);
            }
            for (Supplier<Reply> modification : script.modifications) {
                context.send(modification.get());
            }
            return reply == null ? Reply.Continue.INSTANCE : reply;
        });
    }

    @Override
    public CompletionStage<Void> abort(ClientContext context) {
        if (report) {
            print(context, "abort", null);
        }
        return Milter.done();
    }

    @Override
    public void closed(ClientContext context) {
        if (report) {
            out.print("finished\n");
            out.flush();
        }
        if (reportMemory) {
            Runtime runtime = Runtime.getRuntime();
            out.print("memory: used=<" + (runtime.totalMemory() - runtime.freeMemory()) / 1024 + "KB>, total=<"
                    + runtime.totalMemory() / 1024 + "KB>\n");
            out.flush();
        }
        onClosed.run();
    }

    private CompletionStage<Reply> reply(ClientContext context, Script.Stage stage, Reply reply) {
        Reply answer = reply == null ? Reply.Continue.INSTANCE : reply;
        return later(context, stage, () -> answer);
    }

    private <T> CompletionStage<T> later(ClientContext context, Script.Stage stage, Supplier<T> value) {
        long delay = script.delayMillis(stage);
        if (delay <= 0) {
            return CompletableFuture.completedFuture(value.get());
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        context.eventLoop().schedule(() -> {
            try {
                result.complete(value.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, delay, TimeUnit.MILLISECONDS);
        return result;
    }

    private void print(ClientContext context, String line, CommandType stage) {
        StringBuilder block = new StringBuilder(line).append('\n');
        if (stage != null) {
            Map<String, String> macros = context.macros().visible(stage);
            if (!macros.isEmpty()) {
                block.append("macros:\n");
                macros.forEach((name, value) -> block.append("  ").append(name).append('=').append(value)
                        .append('\n'));
            }
        }
        out.print(block);
        out.flush();
    }

    /** Upstream's spec form of the client address: {@code inet:PORT@[ADDR]}, {@code unix:PATH} or {@code unknown}. */
    static String addressSpec(Command.Connect connect) {
        SocketFamily family = connect.family();
        switch (family) {
            case INET:
                return "inet:" + connect.port() + "@[" + connect.address() + "]";
            case INET6: {
                String address = connect.address();
                if (address.regionMatches(true, 0, "IPv6:", 0, 5)) {
                    address = address.substring(5);
                }
                return "inet6:" + connect.port() + "@[" + address + "]";
            }
            case UNIX:
                return "unix:" + connect.address();
            default:
                return "unknown";
        }
    }
}
