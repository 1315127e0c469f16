package milter.client;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import milter.core.log.TaggedLogger;

/**
 * Sits on the listening channel, before Netty's acceptor: counts accepted connections for the client, pauses
 * accepting (auto-read off) while {@code max_connections} are being processed or after running out of file
 * descriptors, and logs accept failures with upstream's tags. Runs on the listening channel's event loop only.
 */
final class AcceptHandler extends ChannelInboundHandlerAdapter {
    private final MilterClient client;
    private boolean suspendedForLimit;
    private boolean suspendedForFiles;

    AcceptHandler(MilterClient client) {
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Channel child) {
            int processing = client.accepted(child);
            TaggedLogger.debug(TaggedLogger.NO_SESSION, "[client][accept]", () -> "<" + child.remoteAddress() + ">");
            ctx.fireChannelRead(msg);
            int max = client.maxConnections();
            if (max > 0 && processing >= max && !suspendedForLimit) {
                suspendedForLimit = true;
                ctx.channel().config().setAutoRead(false);
                suspendForLimit(ctx, 0);
            }
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void suspendForLimit(ChannelHandlerContext ctx, int round) {
        long millis = client.suspendTime().toMillis();
        TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][accept][suspend]", "too many processing connection: "
                + client.processingSessions() + ", max: " + client.maxConnections()
                + "; suspend accepting connection in " + MilterClient.formatSeconds(millis) + " seconds: #" + round);
        ctx.executor().schedule(() -> {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][accept][resume]",
                    "resume accepting connection: #" + round);
            if (client.processingSessions() >= client.maxConnections() && ctx.channel().isActive()) {
                suspendForLimit(ctx, round + 1);
                return;
            }
            suspendedForLimit = false;
            resumeIfFree(ctx);
        }, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Handled here rather than by Netty's acceptor, which would pause for a fixed second without our log lines.
        if (!(cause instanceof IOException)) {
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[client][watch][error]", String.valueOf(cause));
            return;
        }
        String message = String.valueOf(cause.getMessage());
        TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][error][accept]", message);
        if (message.contains("Too many open files") && !suspendedForFiles) {
            suspendedForFiles = true;
            ctx.channel().config().setAutoRead(false);
            long millis = client.suspendTime().toMillis();
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][accept][suspend]", "too many file is opened. "
                    + "suspend accepting connection in " + MilterClient.formatSeconds(millis) + " seconds");
            ctx.executor().schedule(() -> {
                TaggedLogger.warning(TaggedLogger.NO_SESSION, "[client][accept][resume]",
                        "resume accepting connection.");
                suspendedForFiles = false;
                resumeIfFree(ctx);
            }, millis, TimeUnit.MILLISECONDS);
        }
    }

    private void resumeIfFree(ChannelHandlerContext ctx) {
        if (!suspendedForLimit && !suspendedForFiles && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }
}
