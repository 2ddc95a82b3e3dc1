internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOCore

/// The event-loop side of a connection: the handshake, call admission, Cancel, and the
/// whole of Append.
///
/// Appends are the hot path, so they never leave the event loop for a task: the request is
/// checked here, handed to the store's writer, and the writer's completion hops straight
/// back to this loop to write the reply and the Status in one flush. Calls that run long
/// (reads) are passed on down the pipeline to `Connection`, which runs each in a task.
/// Protocol decisions come from `ConnectionStateMachine`.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias InboundOut = Frame
    typealias OutboundOut = Frame

    private var machine: ConnectionStateMachine
    private let server: ServerContext
    private let peer: PeerCredentials
    /// Who the peer is, under `--acl`; nil when it may do anything.
    private let caller: Caller?
    private let logger: Logger
    let calls = RunningCalls()
    private var context: ChannelHandlerContext?
    private var helloTimer: Scheduled<Void>?
    private var flushPending = false
    private var answersUnflushed = false
    private let lane: AppendLane

    init(server: ServerContext, peer: PeerCredentials, caller: Caller?, lane: AppendLane) {
        self.server = server
        self.lane = lane
        self.peer = peer
        self.caller = caller
        var logger = server.logger
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
        self.machine = ConnectionStateMachine(
            openCallsMax: server.limits.openCallsPerConnectionMax,
            protocolVersion: ServerVersion.protocolVersion
        )
    }

    /// Sends a connection-level Status and closes once it is on the socket.
    static func refuse(_ channel: any Channel, status: Status) {
        channel.writeAndFlush(Frame(callID: 0, body: .status(status))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let channel = context.channel
        let limit = self.server.limits.helloTimeout
        self.helloTimer = context.eventLoop.scheduleTask(in: TimeAmount(limit)) {
            Self.refuse(channel, status: Status(code: .deadlineExceeded, message: "no Hello within \(limit)"))
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.helloTimer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The client went away: stop its long calls. Appends already queued still commit;
        // their replies have nowhere to go.
        self.helloTimer?.cancel()
        self.calls.stopAll(.shutdown)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.act(on: self.machine.receive(Self.unwrapInboundIn(data)), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let refused = event as? FrameDecoder.RefusedFrame else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        self.act(on: self.machine.refuse(refused.callID, CallError(refused.error).status), context: context)
    }

    private func act(on action: ConnectionStateMachine.ReceiveAction, context: ChannelHandlerContext) {
        switch action {
        case .sendHelloReply(let hello):
            self.helloTimer?.cancel()
            self.logger.debug("hello", metadata: ["client": "\(hello.clientName)"])
            context.writeAndFlush(Self.wrapOutboundOut(Frame(callID: 0, body: .helloReply(self.helloReply()))), promise: nil)
        case .startCall(let callID, let frame):
            // Under `--acl`, a call is checked before anything runs: a denied one writes and
            // reveals nothing.
            if let caller = self.caller, let body = frame.body, let denied = caller.check(body) {
                self.finish(callID, frames: [Frame(callID: callID, body: .status(denied))])
            } else if case .appendRequest(let request) = frame.body {
                self.startAppend(callID, request)
            } else if case .queryRequest(let request) = frame.body, self.server.queries.isLookup(request) {
                self.lookUp(callID, request, on: context.eventLoop)
            } else {
                var credit: UInt64 = 0
                switch frame.body {
                case .subscribeRequest(let request):
                    credit = UInt64(request.initialCredit == 0 ? self.server.limits.subscriptionCreditDefault : Int(request.initialCredit))
                case .readRequest(let request):
                    // A client that grants none asks for no flow control (clients before it).
                    credit = request.initialCredit == 0 ? .max : UInt64(request.initialCredit)
                case .backupRequest(let request):
                    credit = UInt64(request.initialCredit == 0 ? self.server.limits.backupCreditDefault : Int(request.initialCredit))
                default:
                    break
                }
                self.calls.register(callID, initialCredit: credit)
                context.fireChannelRead(Self.wrapInboundOut(frame))
            }
        case .forward(let callID, let frame):
            switch frame.body {
            case .cancel:
                self.calls.control(for: callID)?.stop.signal(.cancelledByClient)
            case .credit(let credit):
                self.calls.control(for: callID)?.credit.grant(UInt64(credit.count))
            case .ack, .nack:
                // For a group subscription; a catch-up subscription has nothing to settle.
                if let body = frame.body {
                    self.calls.control(for: callID)?.settlements.deliver(body)
                }
            default:
                break
            }
        case .rejectCall(let callID, let status):
            context.writeAndFlush(Self.wrapOutboundOut(Frame(callID: callID, body: .status(status))), promise: nil)
        case .closeConnection(let status):
            Self.refuse(context.channel, status: status)
        case .none:
            break
        }
    }

    /// Bytes that are not a frame (from the decoder): say why on call 0, then close.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? WireError {
            self.logger.debug("closing on a bad frame", metadata: ["error": "\(error)"])
            Self.refuse(context.channel, status: CallError(error).status)
        } else {
            self.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: Append

    private func startAppend(_ callID: UInt64, _ request: AppendRequest) {
        do {
            try self.lane.submit(try Conversions.streamWrites(request, limits: self.server.limits), callID: callID, from: self)
        } catch {
            self.server.metrics.appendRefused()
            self.finish(callID, frames: [Frame(callID: callID, body: .status(CallError(error).status))])
        }
    }

    /// Writes an append's reply and Status, unflushed: `AppendLane` flushes each
    /// connection once after writing all the answers of a commit.
    func answerAppend(_ callID: UInt64, _ result: Result<AppendResult, any Error>) {
        guard let context = self.context else { return }
        switch result {
        case .success(let appended):
            context.write(Self.wrapOutboundOut(Frame(callID: callID, body: .appendReply(Conversions.appendReply(appended)))), promise: nil)
            context.write(Self.wrapOutboundOut(Frame(callID: callID, body: .status(Status(code: .ok)))), promise: nil)
        case .failure(let error):
            context.write(Self.wrapOutboundOut(Frame(callID: callID, body: .status(CallError(error).status))), promise: nil)
        }
        self.answersUnflushed = true
        self.callFinished(callID)
    }

    func flushAnswers() {
        guard self.answersUnflushed else { return }
        self.answersUnflushed = false
        self.context?.flush()
    }

    // MARK: Lookups

    /// A query by key or by an indexed equality, answered here on the event loop: the
    /// read is shorter than the thread hops of a call run elsewhere (DESIGN.md §6).
    private func lookUp(_ callID: UInt64, _ request: QueryRequest, on loop: any EventLoop) {
        let started = ContinuousClock.now
        let result = Result { try self.server.queries.lookup(request, on: loop) }
        self.server.metrics.queryAnswered(since: started)
        self.finish(callID, frames: Self.lastFrames(callID, result.map { .queryReply($0) }))
    }

    /// A call's reply and OK, or the Status of its failure.
    private static func lastFrames(_ callID: UInt64, _ result: Result<Frame.Body, any Error>) -> [Frame] {
        switch result {
        case .success(let reply):
            [Frame(callID: callID, body: reply), Frame(callID: callID, body: .status(Status(code: .ok)))]
        case .failure(let error):
            [Frame(callID: callID, body: .status(CallError(error).status))]
        }
    }

    /// Writes a call's last frames. Flushes are coalesced: a group commit completes many
    /// appends at once, and their replies leave in one write to the socket.
    private func finish(_ callID: UInt64, frames: [Frame]) {
        guard let context = self.context else { return }
        for frame in frames {
            context.write(Self.wrapOutboundOut(frame), promise: nil)
        }
        if !self.flushPending {
            self.flushPending = true
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.execute {
                handler.value.flushPending = false
                handler.value.context?.flush()
            }
        }
        self.callFinished(callID)
    }

    // MARK: Calls run elsewhere

    /// A call ended (its Status is written); on the event loop.
    func callFinished(_ callID: UInt64) {
        if self.machine.callFinished(callID) == .closeConnection, let context = self.context {
            Self.refuse(context.channel, status: CallError.shuttingDown.status)
        }
    }

    /// Graceful shutdown: long calls end now, accepted appends finish, then the connection
    /// closes; on the event loop.
    func drain() {
        let (cancel, closeNow) = self.machine.startDraining()
        self.calls.stop(cancel, .shutdown)
        if closeNow, let context = self.context {
            Self.refuse(context.channel, status: CallError.shuttingDown.status)
        }
    }

    private func helloReply() -> HelloReply {
        let limits = self.server.limits
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
}
