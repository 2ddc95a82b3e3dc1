internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import ServiceLifecycle
internal import Synchronization

/// Serves one client connection: the handshake, then many concurrent calls.
///
/// Frames arrive in order from one task; each call runs in its own child task and writes its
/// frames through the shared outbound writer, whose back-pressure holds a call that outruns
/// the socket. Protocol decisions come from `ConnectionStateMachine`.
final class Connection: Sendable {
    private let channel: NIOAsyncChannel<Frame, Frame>
    private let peer: PeerCredentials
    private let context: ServerContext
    private let logger: Logger
    private let state: Mutex<ConnectionStateMachine>
    private let signals = Mutex<[UInt64: CallSignal]>([:])

    init(channel: NIOAsyncChannel<Frame, Frame>, peer: PeerCredentials, context: ServerContext) {
        self.channel = channel
        self.peer = peer
        self.context = context
        var logger = context.logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        self.state = Mutex(ConnectionStateMachine(
            openCallsMax: context.limits.openCallsPerConnectionMax,
            protocolVersion: ServerVersion.protocolVersion
        ))
    }

    /// Sends a connection-level Status and closes, for a connection never served.
    static func refuse(_ channel: any Channel, status: Status) {
        channel.writeAndFlush(Frame(callID: 0, body: .status(status))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func run() async {
        let raw = self.channel.channel
        let helloTimer = raw.eventLoop.scheduleTask(in: TimeAmount(self.context.limits.helloTimeout)) {
            let limit = self.context.limits.helloTimeout
            self.logger.debug("no Hello in time; closing")
            Connection.refuse(raw, status: Status(code: .deadlineExceeded, message: "no Hello within \(limit)"))
        }
        defer { helloTimer.cancel() }
        do {
            try await self.channel.executeThenClose { inbound, outbound in
                try await withGracefulShutdownHandler {
                    try await withThrowingDiscardingTaskGroup { group in
                        do {
                            for try await frame in inbound {
                                guard try await self.handle(frame, helloTimer: helloTimer, outbound: outbound, group: &group) else { break }
                            }
                        } catch let error as WireError {
                            // Bytes that are not a frame: say why on call 0, then close.
                            self.logger.debug("closing on a bad frame", metadata: ["error": "\(error)"])
                            self.closeConnection(Status(code: error.code, message: error.message))
                        }
                        // The client went away (or we closed): stop what is still running.
                        // Appends already queued still commit; their replies have nowhere to go.
                        self.signalAll(.shutdown)
                    }
                } onGracefulShutdown: {
                    self.drain()
                }
            }
        } catch {
            self.logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Acts on one inbound frame; false when the connection is to close.
    private func handle(
        _ frame: Frame,
        helloTimer: Scheduled<Void>,
        outbound: NIOAsyncChannelOutboundWriter<Frame>,
        group: inout ThrowingDiscardingTaskGroup<any Error>
    ) async throws -> Bool {
        switch self.state.withLock({ $0.receive(frame) }) {
        case .sendHelloReply(let hello):
            helloTimer.cancel()
            self.logger.debug("hello", metadata: ["client": "\(hello.clientName)"])
            try await outbound.write(Frame(callID: 0, body: .helloReply(self.helloReply())))
        case .startCall(let callID, let frame):
            let signal = CallSignal()
            self.signals.withLock { $0[callID] = signal }
            group.addTask {
                await self.runCall(callID, frame: frame, signal: signal, outbound: outbound)
            }
        case .forward(let callID, let frame):
            if case .cancel = frame.body {
                self.signals.withLock { $0[callID] }?.signal(.cancelledByClient)
            }
        case .rejectCall(let callID, let status):
            try await outbound.write(Frame(callID: callID, body: .status(status)))
        case .closeConnection(let status):
            self.closeConnection(status)
            return false
        case .none:
            break
        }
        return true
    }

    private func runCall(_ callID: UInt64, frame: Frame, signal: CallSignal, outbound: NIOAsyncChannelOutboundWriter<Frame>) async {
        let calls = Calls(context: self.context, callID: callID, outbound: outbound, logger: self.logger)
        let deadline: ContinuousClock.Instant? = frame.timeoutMs > 0 ? .now + .milliseconds(frame.timeoutMs) : nil
        let status = await calls.run(frame, signal: signal, deadline: deadline)
        try? await outbound.write(Frame(callID: callID, body: .status(status)))
        self.signals.withLock { $0[callID] = nil }
        if self.state.withLock({ $0.callFinished(callID) }) == .closeConnection {
            self.closeConnection(Status(code: .unavailable, message: "the server is shutting down"))
        }
    }

    private func helloReply() -> HelloReply {
        let limits = self.context.limits
        return HelloReply(
            serverVersion: ServerVersion.server,
            protocolVersion: ServerVersion.protocolVersion,
            limits: LogbookWire.Limits(
                frameBytesMax: UInt64(limits.frameBytesMax),
                eventsPerAppendMax: UInt32(limits.eventsPerAppendMax),
                eventBytesMax: UInt64(limits.eventBytesMax),
                openCallsPerConnectionMax: UInt32(limits.openCallsPerConnectionMax),
                readBatchEventsMax: UInt32(limits.readBatchEventsMax),
                streamNameBytesMax: UInt32(limits.nameBytesMax)
            ),
            peerUid: self.peer.uid,
            peerGid: self.peer.gid,
            peerPid: UInt32(bitPattern: self.peer.pid)
        )
    }

    /// Graceful shutdown: long calls end now, accepted appends finish, then the connection closes.
    private func drain() {
        let (cancel, closeNow) = self.state.withLock { $0.startDraining() }
        let signals = self.signals.withLock { signals in cancel.compactMap { signals[$0] } }
        for signal in signals {
            signal.signal(.shutdown)
        }
        if closeNow {
            self.closeConnection(Status(code: .unavailable, message: "the server is shutting down"))
        }
    }

    private func signalAll(_ reason: CallSignal.Reason) {
        for signal in self.signals.withLock({ Array($0.values) }) {
            signal.signal(reason)
        }
    }

    /// Writes a Status on call 0 and closes once it is on the socket.
    private func closeConnection(_ status: Status) {
        Connection.refuse(self.channel.channel, status: status)
    }
}
