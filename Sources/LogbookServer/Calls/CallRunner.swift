internal import Logging
internal import LogbookWire
internal import NIOCore

/// Runs one call that a connection passes to a task (a read, a subscription, a query, an
/// Admin request) and returns the Status that ends it; frames before the Status go out
/// through `outbound` as they are ready.
///
/// Appends and lookups never come here: `ConnectionHandler` answers them on the event loop.
struct CallRunner: Sendable {
    var context: ServerContext
    var callID: UInt64
    /// Who asked, under `--acl` (its call was let in already); nil when it may do anything.
    var caller: Caller?
    var outbound: NIOAsyncChannelOutboundWriter<Frame>
    var logger: Logger

    private struct DeadlineExceeded: Error {}

    func run(_ frame: Frame, control: CallControl, deadline: ContinuousClock.Instant?) async -> Status {
        let kind = ServerMetrics.kind(of: frame.body)
        let metrics = self.context.metrics
        if let kind { metrics.callStarted(kind) }
        defer { if let kind { metrics.callEnded(kind) } }
        return await self.runCounted(frame, control: control, deadline: deadline)
    }

    private func runCounted(_ frame: Frame, control: CallControl, deadline: ContinuousClock.Instant?) async -> Status {
        let stop = control.stop
        do {
            switch frame.body {
            case .readRequest(let request):
                try await Self.race(stop, deadline: deadline) {
                    try await self.read(request, credit: control.credit)
                }
            case .subscribeRequest(let request):
                switch request.target {
                case .catchUp(let catchUp):
                    try await Self.race(stop, deadline: deadline) {
                        try await self.subscribe(catchUp, credit: control.credit)
                    }
                case .group(let name):
                    try await Self.race(stop, deadline: deadline) {
                        try await self.consume(group: name, initialCredit: request.initialCredit, control: control)
                    }
                case nil:
                    return Status(code: .invalidArgument, message: "SubscribeRequest.target: name a selector (catch_up) or a group")
                }
            case .queryRequest(let request):
                let started = ContinuousClock.now
                try await Self.race(stop, deadline: deadline) {
                    try await self.write(.queryReply(try await self.context.queries.query(request)))
                }
                self.context.metrics.queryAnswered(since: started)
            case .adminRequest(let request):
                return try await self.admin(request)
            case .backupRequest:
                try await Self.race(stop, deadline: deadline) {
                    try await self.backup(credit: control.credit)
                }
            default:
                return Status(code: .internal, message: "call \(self.callID) started by a frame that starts no call")
            }
            return Status(code: .ok)
        } catch is DeadlineExceeded {
            return Status(code: .deadlineExceeded, message: "the call's deadline passed")
        } catch is CancellationError {
            switch stop.reason {
            case .shutdown: return CallError.shuttingDown.status
            case .cancelledByClient, nil: return Status(code: .cancelled, message: "cancelled by the client")
            }
        } catch {
            if let named = CallError.named(error) { return named.status }
            // An error nobody names, thrown while the call was being stopped, is the stop.
            if stop.reason != nil || Task.isCancelled {
                return Status(code: .cancelled, message: "cancelled")
            }
            self.logger.error("call failed", metadata: ["call": "\(self.callID)", "error": "\(error)"])
            return CallError(error).status
        }
    }

    /// Runs `work` until it ends, the call is stopped (Cancel, shutdown) or the deadline passes.
    private static func race(
        _ stop: StopSignal,
        deadline: ContinuousClock.Instant?,
        _ work: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask {
                if await stop.wait() != nil { throw CancellationError() }
            }
            if let deadline {
                group.addTask {
                    try await Task.sleep(until: deadline)
                    throw DeadlineExceeded()
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    /// Sends one frame of this call.
    func write(_ body: Frame.Body) async throws {
        try await self.outbound.write(Frame(callID: self.callID, body: body))
    }
}
