package milter.manager.controller;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import milter.core.log.TaggedLogger;

/**
 * One controller connection: decodes requests and answers them, as upstream's controller context does. The work
 * (reload, file writes, rendering the configuration) runs on the controller's single worker thread, so requests
 * are answered in the order they came and the event loop never waits. A connection stays open for more requests
 * until the peer closes it. A request that cannot be decoded is logged as upstream's agent does and gets no
 * reply; an oversized frame closes the connection.
 */
final class ControllerSession extends ChannelInboundHandlerAdapter {
    private final long tag;
    private final ControllerActions actions;
    private final Executor worker;

    ControllerSession(long tag, ControllerActions actions, Executor worker) {
        this.tag = tag;
        this.actions = actions;
        this.worker = worker;
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
        ByteBuf payload = (ByteBuf) message;
        ControlPacket request;
        try {
            request = ControlCodec.decode(payload);
        } catch (ControlProtocolException e) {
            decodeError(e.getMessage());
            return;
        } finally {
            payload.release();
        }
        String problem = check(request);
        if (problem != null) {
            decodeError(problem);
            return;
        }
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[controller][receive][" + request.name() + "]",
                () -> "[" + tag + "] " + request.content().length);
        try {
            worker.execute(() -> answer(context, request));
        } catch (RejectedExecutionException e) {
            // The controller is shutting down.
            context.close();
        }
    }

    /** Upstream's decoder: known names only; the argument-less requests must come without content. */
    private static String check(ControlPacket request) {
        switch (request.name()) {
            case ControlPacket.SET_CONFIGURATION:
            case ControlPacket.STOP_CHILD:
                return null;
            case ControlPacket.GET_CONFIGURATION:
            case ControlPacket.RELOAD:
            case ControlPacket.GET_STATUS:
                if (request.content().length != 0) {
                    return request.name() + " command should not have content: <" + request.content().length
                            + "> bytes";
                }
                return null;
            default:
                // The name is the peer's: bound what goes into the log.
                String name = request.name().length() > 256 ? request.name().substring(0, 256) + "..."
                        : request.name();
                return "unexpected command was received: <" + name + ">";
        }
    }

    private void decodeError(String message) {
        TaggedLogger.error(tag, "[agent][error][decode]", "Decode error: " + message);
    }

    /** Runs on the worker thread. */
    private void answer(ChannelHandlerContext context, ControlPacket request) {
        switch (request.name()) {
            case ControlPacket.GET_CONFIGURATION:
                String xml = ConfigurationXml.render(actions.configuration(), actions.loadPaths());
                write(context, ControlPacket.of(ControlPacket.CONFIGURATION, xml), "[controller][error][write]"
                        + "[configuration]");
                break;
            case ControlPacket.SET_CONFIGURATION:
                setConfiguration(context, request.content());
                break;
            case ControlPacket.RELOAD:
                String problem = actions.reload();
                if (problem != null) {
                    TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][reload][error]", problem);
                }
                write(context, ControlPacket.of(ControlPacket.SUCCESS), "[controller][error][write][success]");
                break;
            case ControlPacket.GET_STATUS:
                write(context, ControlPacket.of(ControlPacket.STATUS, actions.status()),
                        "[controller][error][write][status]");
                break;
            case ControlPacket.STOP_CHILD:
                stopChild(context, request.text().trim());
                break;
            default:
                break;
        }
    }

    private void setConfiguration(ChannelHandlerContext context, byte[] content) {
        try {
            java.nio.file.Path file = CustomConfigurationStore.save(actions.loadPaths(), content);
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[controller][save]", "<" + file + ">");
            write(context, ControlPacket.of(ControlPacket.SUCCESS), "[controller][error][write][success]");
        } catch (IOException e) {
            String message = "failed to save custom configuration file: " + e.getMessage();
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][save]", message);
            write(context, ControlPacket.of(ControlPacket.ERROR, message), "[controller][error][write][error]");
        }
    }

    private void stopChild(ChannelHandlerContext context, String name) {
        String problem = name.isEmpty() ? "milter name is missing" : actions.stopChild(name);
        if (problem == null) {
            TaggedLogger.info(TaggedLogger.NO_SESSION, "[controller][stop-child]", "<" + name + ">");
            write(context, ControlPacket.of(ControlPacket.SUCCESS), "[controller][error][write][success]");
        } else {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][stop-child]", "<" + name + ">: "
                    + problem);
            write(context, ControlPacket.of(ControlPacket.ERROR, problem), "[controller][error][write][error]");
        }
    }

    private void write(ChannelHandlerContext context, ControlPacket reply, String errorTags) {
        if (!context.channel().isActive()) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, errorTags, "connection closed before the reply: <"
                    + reply.name() + ">");
            return;
        }
        context.writeAndFlush(ControlCodec.encode(context.alloc(), reply)).addListener(future -> {
            if (!future.isSuccess()) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, errorTags, String.valueOf(future.cause().getMessage()));
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof TooLongFrameException || cause.getCause() instanceof TooLongFrameException) {
            Throwable tooLong = cause instanceof TooLongFrameException ? cause : cause.getCause();
            decodeError(tooLong.getMessage());
        } else if (!(cause instanceof IOException)) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[controller][error][watch]", "[" + tag + "] " + cause);
        }
        context.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        TaggedLogger.debug(TaggedLogger.NO_SESSION, "[controller][close]", () -> "[" + tag + "]");
    }
}
