internal import LogbookWire
internal import NIOCore
internal import NIOPosix
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// One connection to logbookd: the channel, its call router, and what the handshake said.
final class ClientConnection: Sendable {
    let channel: any Channel
    let router: NIOLoopBound<CallRouter>
    let serverInfo: ServerInfo
    let socketPath: String
    let clientName: String
    private let frameBytesMax: Int
    private let nextCallID = Atomic<UInt64>(1)

    private init(channel: any Channel, router: NIOLoopBound<CallRouter>, hello: HelloReply, socketPath: String, clientName: String) {
        self.channel = channel
        self.router = router
        self.serverInfo = ServerInfo(wire: hello)
        self.socketPath = socketPath
        self.clientName = clientName
        let announced = self.serverInfo.limits.frameBytesMax
        self.frameBytesMax = announced > 0 ? announced : ClientLimits.outboundFrameBytesMax
    }

    deinit {
        self.channel.close(promise: nil)
    }

    /// Connects to the socket and performs the handshake.
    static func connect(
        socketPath: String,
        clientName: String,
        on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async throws(LogbookError) -> ClientConnection {
        let handshake = eventLoop.makePromise(of: HelloReply.self)
        // The router as added, not looked up after the handshake: a daemon may close the
        // connection just after its HelloReply (shutting down), and the pipeline is empty then.
        let routerAdded = eventLoop.makePromise(of: NIOLoopBound<CallRouter>.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(ClientLimits.connectTimeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let router = CallRouter(clientName: clientName, handshake: handshake)
                        try channel.pipeline.syncOperations.addHandlers(
                            ByteToMessageHandler(FrameDecoder(frameBytesMax: ClientLimits.inboundFrameBytesMax)),
                            MessageToByteHandler(FrameEncoder(frameBytesMax: ClientLimits.outboundFrameBytesMax)),
                            router
                        )
                        routerAdded.succeed(NIOLoopBound(router, eventLoop: channel.eventLoop))
                    }
                }
                .connect(unixDomainSocketPath: socketPath)
                .get()
        } catch {
            handshake.fail(error)
            routerAdded.fail(error)
            throw LogbookError(
                code: .unavailable,
                message: "cannot connect to logbookd at \(socketPath): \(Self.describe(error))",
                cause: error
            )
        }
        do {
            // The handshake's answer first: a daemon that refuses the connection (too many)
            // closes it at once, and the pipeline, router included, is gone by then; the
            // refusal is in the answer.
            let hello = try await handshake.futureResult.get()
            let router = try await routerAdded.futureResult.get()
            return ClientConnection(channel: channel, router: router, hello: hello, socketPath: socketPath, clientName: clientName)
        } catch {
            channel.close(promise: nil)
            if let error = error as? LogbookError {
                var error = error
                error.message = "logbookd at \(socketPath) refused the connection: \(error.message)"
                throw error
            }
            throw LogbookError(
                code: .unavailable,
                message: "the handshake with logbookd at \(socketPath) failed: \(Self.describe(error))",
                cause: error
            )
        }
    }

    /// Calls `body` with the reason once the connection has closed, at once if it has.
    func whenClosed(_ body: @escaping @Sendable (LogbookError) -> Void) {
        let router = self.router
        // The close future completes on the channel's event loop, the router's.
        self.channel.closeFuture.whenComplete { _ in
            body(router.value.closeReason ?? LogbookError(code: .unavailable, message: "the connection to logbookd closed"))
        }
    }

    /// Closes the connection and waits until it is closed.
    func close() async {
        let router = self.router
        router.eventLoop.execute { router.value.close() }
        try? await self.channel.closeFuture.get()
    }

    /// Runs a call that answers with one reply, and returns that reply.
    ///
    /// If the caller's task is cancelled, the server is asked to end the call; the call
    /// still returns what the server answered (an append that committed first succeeds).
    func unary(_ body: Frame.Body, timeout: Duration?) async throws -> Frame.Body {
        let id = self.takeCallID()
        let frame = Frame(callID: id, timeoutMs: timeout?.roundedUpMilliseconds ?? 0, body: body)
        try RequestCheck.check(frame, frameBytesMax: self.frameBytesMax)
        try Task.checkCancellation()

        let router = self.router
        let promise = router.eventLoop.makePromise(of: Frame.Body.self)
        // Enqueued before the cancellation handler exists, so a cancel always finds the call.
        router.eventLoop.execute { router.value.start(id, frame: frame, sink: .unary(promise)) }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            router.eventLoop.execute { router.value.cancel(id) }
        }
    }

    /// The consumer's end of a call whose frames arrive through a back-pressured producer.
    typealias Produced<Element> = NIOThrowingAsyncSequenceProducer<
        Element,
        any Error,
        NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark,
        EventStream.Delegate
    >

    /// Starts a call that answers with event batches, and returns its call id and the
    /// consumer's end.
    func stream(_ body: Frame.Body, timeout: Duration?) throws(LogbookError) -> (callID: UInt64, batches: EventStream.Producer.AsyncIterator) {
        let frame = Frame(callID: self.takeCallID(), timeoutMs: timeout?.roundedUpMilliseconds ?? 0, body: body)
        let batches: EventStream.Producer.AsyncIterator = try self.start(
            frame,
            buffered: ClientLimits.readBatchesBufferedLow...ClientLimits.readBatchesBufferedHigh
        ) { .stream($0) }
        return (frame.callID, batches)
    }

    /// Starts a catch-up subscription, and returns its call id and the consumer's end.
    func subscribe(_ request: SubscribeRequest) throws(LogbookError) -> (callID: UInt64, frames: SubscriptionStream.Producer.AsyncIterator) {
        let frame = Frame(callID: self.takeCallID(), body: .subscribeRequest(request))
        let frames: SubscriptionStream.Producer.AsyncIterator = try self.start(
            frame,
            buffered: ClientLimits.subscriptionFramesBufferedLow...ClientLimits.subscriptionFramesBufferedHigh
        ) { .subscription($0) }
        return (frame.callID, frames)
    }

    /// Joins a persistent group, and returns the call id and the consumer's end; `hooks`
    /// hear about `Settled` and the end of the call on the event loop.
    func consume(_ request: SubscribeRequest, hooks: GroupStream.Hooks) throws(LogbookError) -> (callID: UInt64, batches: GroupStream.Producer.AsyncIterator) {
        let frame = Frame(callID: self.takeCallID(), body: .subscribeRequest(request))
        let batches: GroupStream.Producer.AsyncIterator = try self.start(
            frame,
            buffered: ClientLimits.groupBatchesBufferedLow...ClientLimits.groupBatchesBufferedHigh
        ) { .group($0, hooks) }
        return (frame.callID, batches)
    }

    /// Starts a call whose frames its consumer takes as they are (a backup), and returns
    /// its call id and the consumer's end.
    func bodies(_ body: Frame.Body, timeout: Duration?) throws(LogbookError) -> (callID: UInt64, frames: Produced<Frame.Body>.AsyncIterator) {
        let frame = Frame(callID: self.takeCallID(), timeoutMs: timeout?.roundedUpMilliseconds ?? 0, body: body)
        let frames: Produced<Frame.Body>.AsyncIterator = try self.start(
            frame,
            buffered: ClientLimits.readBatchesBufferedLow...ClientLimits.readBatchesBufferedHigh
        ) { .bodies($0) }
        return (frame.callID, frames)
    }

    private func takeCallID() -> UInt64 {
        self.nextCallID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Checks `frame`, makes the producer its replies flow through (holding between the
    /// watermarks in `buffered`), and hands the call to the router with the sink `sink` makes.
    private func start<Element>(
        _ frame: Frame,
        buffered: ClosedRange<Int>,
        sink: @escaping @Sendable (Produced<Element>.Source) -> CallRouter.Sink
    ) throws(LogbookError) -> Produced<Element>.AsyncIterator {
        try RequestCheck.check(frame, frameBytesMax: self.frameBytesMax)
        let router = self.router
        let producer = Produced<Element>.makeSequence(
            elementType: Element.self,
            backPressureStrategy: .init(lowWatermark: buffered.lowerBound, highWatermark: buffered.upperBound),
            finishOnDeinit: true,
            delegate: EventStream.Delegate(router: router, callID: frame.callID)
        )
        let source = producer.source
        router.eventLoop.execute { router.value.start(frame.callID, frame: frame, sink: sink(source)) }
        return producer.sequence.makeAsyncIterator()
    }

    /// Lets the server send `count` more events on a read or a subscription.
    func grantCredit(_ callID: UInt64, count: UInt32) {
        let router = self.router
        router.eventLoop.execute { router.value.grantCredit(callID, count: count) }
    }

    /// Sends Cancel on a call whose consumer went away, then closes the connection,
    /// without waiting; for a connection that carried only that call.
    func cancelAndClose(_ callID: UInt64) {
        let router = self.router
        router.eventLoop.execute {
            router.value.streamTerminated(callID)
            router.value.close()
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
        }
        return "\(error)"
    }
}
