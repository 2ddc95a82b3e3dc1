internal import Foundation
internal import LogbookWire
internal import NIOCore
internal import NIOPosix
internal import Synchronization

/// A tiny in-process logbookd stand-in on a temporary Unix socket, speaking Hello, Append
/// and Read with the real frame codec, to test the client's call routing without the
/// daemon.
///
/// - Appends answer after a random delay (so replies come back in another order than the
///   requests went out) with `first_revision` = the number of events before, computed per
///   stream, and positions from a global counter.
/// - A read of stream `S` returns the events appended to `S` so far, in batches of 2.
///   A read of `endless` sends a batch every millisecond until cancelled; a read of `flood`
///   sends 100 KB batches as fast as the socket takes them, until cancelled.
/// - An append to a stream named `conflict-…` is refused with a wrong expected revision.
/// - A catch-up subscription gets CaughtUp at its start position, then made-up events
///   after it, exactly as many as the client granted credit for, until cancelled.
/// - An append to a stream named `hold-…`, a query of a view named `hold…` and an Admin
///   request naming a group `hold…` are never answered: they are in flight when the test
///   stops the server. ``heldCalls`` counts them.
/// - ``stop()`` closes every connection as well as the socket, as a daemon that dies does;
///   a new server can then start on the same socket path.
final class FakeServer: Sendable {
    let socketPath: String
    private let channel: any Channel

    struct State {
        var streams: [String: [LogbookWire.RecordedEvent]] = [:]
        var position: UInt64 = 0
        var cancelledCalls: [UInt64] = []
        var framesReceived = 0
        var floodBatchesSent = 0
        var floodBlocked = false
        var subscribeRequests: [SubscribeRequest] = []
        var creditGrants: [UInt32] = []
        var subscriptionEventsSent = 0
        var heldCalls = 0
        /// The event ids of the appends held, in arrival order.
        var heldAppendIDs: [[UInt8]] = []
    }

    /// The event ids of the appends held, in arrival order.
    var heldAppendIDs: [[UInt8]] { self.box.state.withLock { $0.heldAppendIDs } }

    /// Requests received that the server holds without answering.
    var heldCalls: Int { self.box.state.withLock { $0.heldCalls } }

    /// The events appended to `stream` so far.
    func events(of stream: String) -> [LogbookWire.RecordedEvent] {
        self.box.state.withLock { $0.streams[stream] ?? [] }
    }

    /// The SubscribeRequests received, in order.
    var subscribeRequests: [SubscribeRequest] { self.box.state.withLock { $0.subscribeRequests } }

    /// The counts of the Credit frames received, in order.
    var creditGrants: [UInt32] { self.box.state.withLock { $0.creditGrants } }

    /// Events sent on subscriptions, all calls together.
    var subscriptionEventsSent: Int { self.box.state.withLock { $0.subscriptionEventsSent } }

    /// Frames received so far, on all connections.
    var framesReceived: Int { self.box.state.withLock { $0.framesReceived } }

    /// Batches of the `flood` read sent so far.
    var floodBatchesSent: Int { self.box.state.withLock { $0.floodBatchesSent } }

    /// Whether the `flood` read found the socket full (the client stopped reading).
    var floodBlocked: Bool { self.box.state.withLock { $0.floodBlocked } }

    /// The call ids a client sent Cancel on.
    var cancelledCalls: [UInt64] { self.box.state.withLock { $0.cancelledCalls } }

    /// A fresh temporary socket path.
    static func makeSocketPath() -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("logbook-fake-\(UInt32.random(in: 0...UInt32.max)).sock").path
    }

    static func start(socketPath: String = FakeServer.makeSocketPath(), frameBytesMax: UInt64 = 16 << 20, openCallsMax: UInt32 = 8) async throws -> FakeServer {
        let limits = Limits(frameBytesMax: frameBytesMax, openCallsPerConnectionMax: openCallsMax)
        let box = StateBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                box.children.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(FrameDecoder(frameBytesMax: 64 << 20)),
                        MessageToByteHandler(FrameEncoder(frameBytesMax: 64 << 20)),
                        FakeServerHandler(limits: limits, box: box)
                    )
                }
            }
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true)
            .get()
        let server = FakeServer(socketPath: socketPath, channel: channel, box: box)
        return server
    }

    private let box: StateBox

    private init(socketPath: String, channel: any Channel, box: StateBox) {
        self.socketPath = socketPath
        self.channel = channel
        self.box = box
    }

    /// Stops listening and closes every connection, as a daemon that dies does.
    func stop() async {
        try? await self.channel.close()
        for child in self.box.children.withLock({ $0 }) {
            try? await child.close()
        }
        try? FileManager.default.removeItem(atPath: self.socketPath)
    }

    /// Lets the handlers, created before the server object, find it.
    final class StateBox: Sendable {
        /// Made before the server binds: a client that connects the moment it listens
        /// (a reconnecting one does) finds its calls recorded, not dropped.
        let state = Mutex(FakeServer.State())
        let children = Mutex<[any Channel]>([])
    }
}

private final class FakeServerHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = Frame

    private let limits: Limits
    private let box: FakeServer.StateBox
    private var endless: Set<UInt64> = []
    private var flooding: Set<UInt64> = []
    /// Open subscriptions: credit left, and the position of the last event sent.
    private var subscriptions: [UInt64: (credit: UInt64, last: UInt64)] = [:]

    init(limits: Limits, box: FakeServer.StateBox) {
        self.limits = limits
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        self.box.state.withLock { $0.framesReceived += 1 }
        let callID = frame.callID
        if Self.isHeld(frame.body) {
            self.box.state.withLock { state in
                state.heldCalls += 1
                if case .appendRequest(let request)? = frame.body {
                    state.heldAppendIDs += request.streams.flatMap { $0.events.map(\.id) }
                }
            }
            return
        }
        switch frame.body {
        case .hello?:
            self.send(context, Frame(body: .helloReply(HelloReply(serverVersion: "fake", protocolVersion: 1, limits: self.limits, peerUid: 1))))
        case .appendRequest(let request)?:
            self.append(request, callID: callID, context: context)
        case .readRequest(let request)?:
            self.read(request, callID: callID, context: context)
        case .subscribeRequest(let request)?:
            self.box.state.withLock { $0.subscribeRequests.append(request) }
            var after: UInt64 = 0
            if case .catchUp(let catchUp)? = request.target, case .position(let position)? = catchUp.from?.kind {
                after = position
            }
            self.subscriptions[callID] = (UInt64(request.initialCredit), after)
            self.send(context, Frame(callID: callID, body: .caughtUp(CaughtUp(position: after))))
            self.pump(callID, context: context)
        case .credit(let credit)?:
            self.box.state.withLock { $0.creditGrants.append(credit.count) }
            self.subscriptions[callID]?.credit += UInt64(credit.count)
            self.pump(callID, context: context)
        case .cancel?:
            self.box.state.withLock { $0.cancelledCalls.append(callID) }
            if self.endless.remove(callID) != nil || self.flooding.remove(callID) != nil
                || self.subscriptions.removeValue(forKey: callID) != nil
            {
                self.send(context, Frame(callID: callID, body: .status(Status(code: .cancelled, message: "cancelled"))))
            }
        default:
            self.send(context, Frame(callID: callID, body: .status(Status(code: .unimplemented))))
        }
    }

    private static func isHeld(_ body: Frame.Body?) -> Bool {
        switch body {
        case .appendRequest(let request)?:
            return request.streams.first?.stream.hasPrefix("hold-") == true
        case .queryRequest(let request)?:
            return request.view.hasPrefix("hold")
        case .adminRequest(let request)?:
            switch request.op {
            case .createGroup(let settings)?: return settings.name.hasPrefix("hold")
            case .groupInfo(let name)?: return name.hasPrefix("hold")
            default: return false
            }
        default:
            return false
        }
    }

    private func append(_ request: AppendRequest, callID: UInt64, context: ChannelHandlerContext) {
        if let stream = request.streams.first?.stream, stream.hasPrefix("conflict-") {
            let status = Status(
                code: .failedPrecondition,
                message: "wrong expected revision",
                detail: .wrongExpectedRevision(
                    WrongExpectedRevision(stream: stream, expected: request.streams[0].expected, streamExists: true, actualRevision: 7)
                )
            )
            self.send(context, Frame(callID: callID, body: .status(status)))
            return
        }
        let reply = self.box.state.withLock { state -> AppendReply in
            var results: [StreamAppendResult] = []
            for append in request.streams {
                var events = state.streams[append.stream, default: []]
                let first = UInt64(events.count)
                var positions: [UInt64] = []
                for proposed in append.events {
                    state.position += 1
                    positions.append(state.position)
                    events.append(
                        LogbookWire.RecordedEvent(
                            stream: append.stream, revision: UInt64(events.count), position: state.position,
                            id: proposed.id, type: proposed.type, data: proposed.data, contentType: proposed.contentType,
                            metadata: proposed.metadata, timeUnixMicros: 1_700_000_000_000_000
                        )
                    )
                }
                state.streams[append.stream] = events
                results.append(
                    StreamAppendResult(stream: append.stream, firstRevision: first, lastRevision: UInt64(events.count) - 1, positions: positions)
                )
            }
            return AppendReply(streams: results, commitTimeUnixMicros: 1_700_000_000_000_000)
        }
        let delay = TimeAmount.microseconds(Int64.random(in: 0...3000))
        context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
            self.send(context, Frame(callID: callID, body: .appendReply(reply)), flush: false)
            self.send(context, Frame(callID: callID, body: .status(Status(code: .ok))))
        }
    }

    private func read(_ request: ReadRequest, callID: UInt64, context: ChannelHandlerContext) {
        guard case .stream(let stream)? = request.selector?.kind else {
            self.send(context, Frame(callID: callID, body: .status(Status(code: .unimplemented))))
            return
        }
        if stream == "flood" {
            self.flooding.insert(callID)
            self.flood(context: context)
            return
        }
        if stream == "endless" {
            self.endless.insert(callID)
            self.sendEndless(callID: callID, revision: 0, context: context)
            return
        }
        let events = self.box.state.withLock { $0.streams[stream] ?? [] }
        var start = 0
        while start < events.count {
            let batch = Array(events[start..<min(start + 2, events.count)])
            self.send(context, Frame(callID: callID, body: .eventBatch(EventBatch(events: batch))), flush: false)
            start += 2
        }
        self.send(context, Frame(callID: callID, body: .status(Status(code: .ok))))
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.flood(context: context)
        } else if !self.flooding.isEmpty {
            self.box.state.withLock { $0.floodBlocked = true }
        }
    }

    private func flood(context: ChannelHandlerContext) {
        let data = [UInt8](repeating: 0x61, count: 1000)
        var revision = UInt64(self.box.state.withLock { $0.floodBatchesSent }) * 100
        while context.channel.isWritable, let callID = self.flooding.first {
            let events = (0..<100).map { offset in
                LogbookWire.RecordedEvent(
                    stream: "flood", revision: revision + UInt64(offset), position: revision + UInt64(offset) + 1,
                    id: Array(repeating: 2, count: 16), type: "Flood", data: data
                )
            }
            revision += 100
            self.box.state.withLock { $0.floodBatchesSent += 1 }
            self.send(context, Frame(callID: callID, body: .eventBatch(EventBatch(events: events))))
        }
    }

    /// Sends a subscription as many events as its credit allows, 10 per batch.
    private func pump(_ callID: UInt64, context: ChannelHandlerContext) {
        while let subscription = self.subscriptions[callID], subscription.credit > 0 {
            let count = min(subscription.credit, 10)
            let events = (1...count).map { offset in
                LogbookWire.RecordedEvent(
                    stream: "sub", revision: subscription.last + offset - 1, position: subscription.last + offset,
                    id: Array(repeating: 3, count: 16), type: "Tick"
                )
            }
            self.subscriptions[callID] = (subscription.credit - count, subscription.last + count)
            self.box.state.withLock { $0.subscriptionEventsSent += Int(count) }
            self.send(context, Frame(callID: callID, body: .eventBatch(EventBatch(events: events))))
        }
    }

    private func sendEndless(callID: UInt64, revision: UInt64, context: ChannelHandlerContext) {
        guard self.endless.contains(callID) else { return }
        let event = LogbookWire.RecordedEvent(
            stream: "endless", revision: revision, position: revision + 1, id: Array(repeating: 1, count: 16), type: "Tick"
        )
        self.send(context, Frame(callID: callID, body: .eventBatch(EventBatch(events: [event]))))
        context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(1)) {
            self.sendEndless(callID: callID, revision: revision + 1, context: context)
        }
    }

    private func send(_ context: ChannelHandlerContext, _ frame: Frame, flush: Bool = true) {
        if flush {
            context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
        } else {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
    }
}
