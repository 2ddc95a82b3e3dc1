internal import NIOCore
internal import NIOHTTP1
internal import NIOPosix

/// `logbookd --metrics-listen HOST:PORT`: `GET /metrics` over HTTP/1.1 for Prometheus to
/// scrape (DESIGN §11). Off by default. Anyone who can reach the port reads the metrics
/// (group and view names, counts), so it is meant for the loopback address.
package enum MetricsEndpoint {
    /// Where to listen: an IP address and a port (0: one the kernel picks, logged).
    package struct Address: Sendable, Equatable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            (self.host, self.port) = (host, port)
        }

        /// `127.0.0.1:9464`, `[::1]:9464`; nil for anything else.
        package init?(parsing text: String) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
                (0...65535).contains(port)
            else { return nil }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard (try? SocketAddress(ipAddress: host, port: port)) != nil else { return nil }
            (self.host, self.port) = (host, port)
        }

        package var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
    }

    /// Listens on `address` until the returned channel is closed.
    static func start(
        _ address: Address, on group: any EventLoopGroup, scrape: @escaping @Sendable () async -> String
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(scrape: scrape))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }
}

/// Answers each request on a connection in turn: the metrics for `GET /metrics`, 404 for
/// another path, 405 for another method.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let scrape: @Sendable () async -> String
    private var request: HTTPRequestHead?

    init(scrape: @escaping @Sendable () async -> String) {
        self.scrape = scrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let request = self.request else { return }
            self.request = nil
            self.answer(request, context: context)
        }
    }

    private func answer(_ request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        guard path == "/metrics" else {
            self.respond(request, .notFound, body: "not found: the metrics are at /metrics\n", context: context)
            return
        }
        guard request.method == .GET || request.method == .HEAD else {
            self.respond(request, .methodNotAllowed, body: "only GET and HEAD\n", extra: [("Allow", "GET, HEAD")], context: context)
            return
        }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let promise = context.eventLoop.makePromise(of: String.self)
        promise.completeWithTask(self.scrape)
        promise.futureResult.whenSuccess { text in
            handler.value.respond(
                request, .ok, body: text, contentType: "text/plain; version=0.0.4; charset=utf-8", context: bound.value)
        }
    }

    private func respond(
        _ request: HTTPRequestHead, _ status: HTTPResponseStatus, body: String,
        contentType: String = "text/plain; charset=utf-8", extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(body.utf8.count)")] + extra)
        let keepAlive = request.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
