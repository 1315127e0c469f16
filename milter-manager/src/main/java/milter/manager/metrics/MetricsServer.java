package milter.manager.metrics;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import milter.core.log.TaggedLogger;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;

/**
 * The HTTP endpoint of the metrics ({@code manager.metrics_spec}, {@code --metrics-spec}): {@code GET /metrics}
 * in the Prometheus text format, or OpenMetrics when the scraper asks for it, and {@code GET /ping} for health
 * checks ({@link HealthReport}: 200 while the MTA listener is up, 503 otherwise).
 *
 * <p>Served with Netty's HTTP codec on a one-thread event loop of its own: the daemon already carries Netty, a
 * scrape is a few kilobytes rendered in memory, and the sessions' event loops never see an HTTP request. Requests
 * are small (8 KiB at most) and idle connections are closed after 30 seconds.
 */
public final class MetricsServer implements AutoCloseable {
    private static final int MAX_REQUEST = 8192;

    private final ManagerMetrics metrics;
    private final Supplier<HealthReport> health;
    private final EventLoopGroup group;
    private Channel server;
    private ConnectionSpec boundSpec;

    private MetricsServer(ManagerMetrics metrics, Supplier<HealthReport> health, EventLoopGroup group) {
        this.metrics = metrics;
        this.health = health;
        this.group = group;
    }

    /**
     * Listens on {@code spec} (inet or inet6 only: scrapers speak TCP); a spec without host ({@code inet:9125})
     * listens on loopback.
     *
     * @throws IOException when the spec is not TCP or binding fails (logged {@code [metrics][error][listen]})
     */
    public static MetricsServer listen(ConnectionSpec spec, Transport transport, ManagerMetrics metrics,
            Supplier<HealthReport> health) throws IOException {
        if (!(spec instanceof ConnectionSpec.Inet inet)) {
            String message = "metrics spec should be inet:PORT@HOST or inet6:PORT@HOST: <" + spec + ">";
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[metrics][error][listen]", message);
            throw new IOException(message);
        }
        if (inet.host() == null) {
            // No host given: loopback, not every address. The endpoint has no authentication.
            inet = new ConnectionSpec.Inet(inet.ipv6(), inet.port(), inet.ipv6() ? "::1" : "127.0.0.1", true);
            spec = inet;
        }
        MetricsServer self = new MetricsServer(metrics, health, transport.newEventLoopGroup(1,
                "milter-manager-metrics"));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(self.group)
                .channel(transport.serverChannelClass(spec))
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(new ReadTimeoutHandler(30, TimeUnit.SECONDS));
                        channel.pipeline().addLast(new HttpServerCodec(MAX_REQUEST, MAX_REQUEST, MAX_REQUEST));
                        channel.pipeline().addLast(new HttpObjectAggregator(MAX_REQUEST));
                        channel.pipeline().addLast(new Handler(self));
                    }
                });
        try {
            self.server = bootstrap.bind(transport.socketAddress(spec)).sync().channel();
        } catch (Exception e) {
            self.group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String message = "<" + spec + ">: " + e.getMessage();
            TaggedLogger.error(TaggedLogger.NO_SESSION, "[metrics][error][listen]", message);
            throw new IOException(message, e);
        }
        InetSocketAddress bound = (InetSocketAddress) self.server.localAddress();
        self.boundSpec = new ConnectionSpec.Inet(inet.ipv6(), bound.getPort(), inet.host(), inet.literal());
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[metrics][listen][start]", "<" + self.boundSpec + ">");
        return self;
    }

    /** The spec with the real port when port 0 was asked for. */
    public ConnectionSpec boundSpec() {
        return boundSpec;
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(10, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    private FullHttpResponse respond(FullHttpRequest request) throws IOException {
        if (!request.decoderResult().isSuccess()) {
            return text(HttpResponseStatus.BAD_REQUEST, "bad request\n");
        }
        boolean head = request.method().equals(HttpMethod.HEAD);
        if (!request.method().equals(HttpMethod.GET) && !head) {
            FullHttpResponse response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "GET only\n");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            return response;
        }
        String path = request.uri();
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        FullHttpResponse response;
        switch (path) {
            case "/metrics":
                response = scrape(request.headers().get(HttpHeaderNames.ACCEPT));
                break;
            case "/ping":
                HealthReport report = health.get();
                response = body(report.up() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "application/json", report.json());
                break;
            case "/":
                response = text(HttpResponseStatus.OK, "milter-manager: /metrics /ping\n");
                break;
            default:
                response = text(HttpResponseStatus.NOT_FOUND, "not found\n");
                break;
        }
        if (head) {
            HttpUtil.setContentLength(response, response.content().readableBytes());
            response.content().clear();
        }
        return response;
    }

    private FullHttpResponse scrape(String accept) throws IOException {
        ExpositionFormatWriter writer = accept != null && accept.contains("application/openmetrics-text")
                ? OpenMetricsTextFormatWriter.create() : PrometheusTextFormatWriter.create();
        ByteBuf content = Unpooled.buffer(8192);
        try (ByteBufOutputStream out = new ByteBufOutputStream(content)) {
            writer.write(out, metrics.scrape());
        } catch (IOException | RuntimeException e) {
            content.release();
            throw e;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, writer.getContentType());
        HttpUtil.setContentLength(response, content.readableBytes());
        return response;
    }

    private static FullHttpResponse text(HttpResponseStatus status, String text) {
        return body(status, "text/plain; charset=utf-8", text);
    }

    private static FullHttpResponse body(HttpResponseStatus status, String type, String text) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        HttpUtil.setContentLength(response, response.content().readableBytes());
        return response;
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final MetricsServer server;

        Handler(MetricsServer server) {
            this.server = server;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext context, FullHttpRequest request) {
            FullHttpResponse response;
            try {
                response = server.respond(request);
            } catch (IOException | RuntimeException e) {
                TaggedLogger.error(TaggedLogger.NO_SESSION, "[metrics][error][scrape]", String.valueOf(e));
                response = text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "error\n");
            }
            boolean keepAlive = HttpUtil.isKeepAlive(request) && response.status().code() < 400;
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                context.writeAndFlush(response);
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                context.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
            context.close();
        }
    }
}
