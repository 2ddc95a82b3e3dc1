package import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import NIOPosix
internal import ServiceLifecycle
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#endif

/// The daemon's socket server: accepts connections on a Unix socket and serves each one.
///
/// Runs as a `Service`: on graceful shutdown it stops accepting, lets every connection
/// finish the appends it accepted (reads and other long calls end with UNAVAILABLE), then
/// removes the socket file.
package final class LogbookServer: Service {
    private let configuration: ServerConfiguration
    private let store: any ServedStore
    private let logger: Logger
    private let stats = ServerStats()

    package init(configuration: ServerConfiguration, store: any ServedStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
    }

    package struct StartError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Makes the socket path free to bind: replaces a stale socket, refuses a live one or a
    /// file that is not a socket. The daemon calls it before opening its data, so a second
    /// daemon says that the first is running rather than that its data is busy.
    package static func prepareSocket(_ path: String) throws(StartError) {
        do {
            try SocketFile.prepare(path)
        } catch {
            throw StartError(description: error.description)
        }
    }

    package func run() async throws {
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: max(1, self.configuration.eventLoops))
        do {
            try await self.serve(on: eventLoops)
        } catch {
            try? await eventLoops.shutdownGracefully()
            throw error
        }
        try await eventLoops.shutdownGracefully()
    }

    private func serve(on eventLoops: MultiThreadedEventLoopGroup) async throws {
        let path = self.configuration.socketPath
        try Self.prepareSocket(path)
        let threadPool = NIOThreadPool(numberOfThreads: self.configuration.limits.readThreads)
        threadPool.start()
        defer { threadPool.shutdownGracefully { _ in } }

        let limits = self.configuration.limits
        let groups = GroupManager(store: self.store, threadPool: threadPool, limits: limits, logger: self.logger)
        do {
            try await groups.start()
        } catch {
            throw StartError(description: "cannot start the subscription groups: \(error)")
        }
        let views: ViewCatalog
        do {
            views = try await ViewCatalog.load(from: self.store)
        } catch {
            throw StartError(description: "cannot load the views: \(error)")
        }
        let queries = QueryService(
            store: self.store, catalog: views, groups: groups,
            systemRows: SystemViewRows(store: self.store, groups: groups, stats: self.stats), threadPool: threadPool,
            limits: limits)
        let context = ServerContext(
            store: self.store, limits: limits, logger: self.logger, threadPool: threadPool, groups: groups, views: views,
            queries: queries, stats: self.stats, metrics: self.configuration.metrics,
            lanes: AppendLanes(store: self.store, stats: self.stats, metrics: self.configuration.metrics),
            access: self.configuration.access)
        // Before the socket: once clients can connect, the metrics are served too.
        let metricsChannel = try await self.serveMetrics(context: context, on: eventLoops)
        defer { metricsChannel?.close(promise: nil) }
        let accepted = AcceptedConnections()
        let server: NIOAsyncChannel<Connection, Never>
        do {
            server = try await self.bind(path, context: context, accepted: accepted, on: eventLoops)
        } catch {
            throw StartError(description: "cannot listen on \(path): \(error)")
        }
        let inode = SocketFile.inode(path)
        guard SocketFile.setMode(path, mode: self.configuration.socketMode) else {
            server.channel.close(promise: nil)
            throw StartError(description: "cannot set the mode of \(path)")
        }
        self.logger.info("listening", metadata: ["socket": "\(path)", "mode": "\(String(self.configuration.socketMode, radix: 8))"])
        self.configuration.onServing?()

        try await withGracefulShutdownHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        accepted.take(connection)
                        if let refusal = connection.refusal {
                            group.addTask { await connection.refuse(refusal) }
                            continue
                        }
                        group.addTask {
                            await connection.run()
                            self.stats.connectionClosed(uid: connection.peer.uid)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections; finishing accepted appends")
            self.configuration.onStopping?()
            server.channel.close(promise: nil)
        }
        for connection in accepted.takeAll() {
            await connection.refuse(CallError.shuttingDown.status)
        }
        await groups.stop()
        await queries.stop()
        SocketFile.remove(path, inode: inode)
        self.logger.info("stopped", metadata: ["socket": "\(path)"])
    }

    private func bind(
        _ path: String, context: ServerContext, accepted: AcceptedConnections, on eventLoops: MultiThreadedEventLoopGroup
    ) async throws -> NIOAsyncChannel<Connection, Never> {
        let limits = context.limits
        return try await ServerBootstrap(group: eventLoops)
            .serverChannelOption(.backlog, value: Int32(clamping: limits.listenBacklog))
            .bind(unixDomainSocketPath: path) { channel in
                PeerCredentials.read(from: channel).flatMapThrowing { peer in
                    // Admitted here, before a byte is read: a refused connection never has
                    // a ConnectionHandler, so a Hello (and calls) sent at once are not
                    // answered or run before the refusal goes out.
                    let refusal = self.admit(peer)
                    let caller = context.access?.caller(peer)
                    let handler = ConnectionHandler(
                        server: context, peer: peer, caller: caller, lane: context.lanes.lane(for: channel.eventLoop))
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(FrameTimeoutHandler(timeout: limits.partialFrameTimeout))
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(frameBytesMax: limits.frameBytesMax, refusesCallsIndividually: true)))
                    try pipeline.addHandler(MessageToByteHandler(FrameEncoder(frameBytesMax: limits.frameBytesMax)))
                    if refusal == nil {
                        try pipeline.addHandler(handler)
                    }
                    let wrapped = try NIOAsyncChannel<Frame, Frame>(wrappingChannelSynchronously: channel)
                    let connection = Connection(
                        channel: wrapped,
                        peer: peer,
                        handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                        calls: handler.calls,
                        context: context,
                        caller: caller,
                        refusal: refusal,
                        logger: self.logger
                    )
                    accepted.add(connection)
                    return connection
                }
            }
    }

    /// `GET /metrics` on `--metrics-listen`'s address, when one is given.
    private func serveMetrics(context: ServerContext, on eventLoops: MultiThreadedEventLoopGroup) async throws -> (any Channel)? {
        guard let address = self.configuration.metricsListen else { return nil }
        let channel: any Channel
        do {
            channel = try await MetricsEndpoint.start(address, on: eventLoops) {
                await context.metrics.exposition(store: context.store, groups: context.groups, views: context.views, stats: context.stats)
            }
        } catch {
            throw StartError(description: "cannot serve the metrics on \(address): \(error)")
        }
        // Port 0 asked the kernel for one: say which.
        let bound = MetricsEndpoint.Address(host: address.host, port: channel.localAddress?.port ?? address.port)
        self.logger.info("serving metrics", metadata: ["url": "http://\(bound)/metrics"])
        return channel
    }

    /// Counts a new connection in, or says why it is refused.
    private func admit(_ peer: PeerCredentials) -> Status? {
        let limits = self.configuration.limits
        let capped = !Self.uncappedUIDs.contains(peer.uid)
        switch self.stats.admitConnection(uid: peer.uid, max: limits.connectionsMax, perUIDMax: capped ? limits.connectionsPerUIDMax : nil) {
        case .admitted:
            return nil
        case .tooMany:
            return Status(code: .resourceExhausted, message: "too many connections (limit \(limits.connectionsMax))")
        case .tooManyFromUID:
            self.logger.warning("connection refused: too many from one uid", metadata: ["peer": "\(peer)", "limit": "\(limits.connectionsPerUIDMax)"])
            return Status(
                code: .resourceExhausted,
                message: "too many connections from uid \(peer.uid) (limit \(limits.connectionsPerUIDMax), logbookd --connections-per-uid)")
        }
    }

    /// Root and the daemon's own user: no cap per uid.
    private static let uncappedUIDs: Set<UInt32> = [0, geteuid()]
}
