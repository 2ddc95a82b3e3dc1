internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import NIOPosix

/// The calls a connection serves. Each returns the Status that ends it; frames before the
/// Status go out through `outbound` as they are ready.
struct Calls: Sendable {
    var context: ServerContext
    var callID: UInt64
    var outbound: NIOAsyncChannelOutboundWriter<Frame>
    var logger: Logger

    private struct DeadlineExceeded: Error {}

    func run(_ frame: Frame, control: CallControl, deadline: ContinuousClock.Instant?) async -> Status {
        let signal = control.signal
        do {
            switch frame.body {
            case .readRequest(let request):
                try await Self.race(signal: signal, deadline: deadline) {
                    try await self.read(request)
                }
            case .subscribeRequest(let request):
                switch request.target {
                case .catchUp(let catchUp):
                    try await Self.race(signal: signal, deadline: deadline) {
                        try await self.subscribe(catchUp, credit: control.credit)
                    }
                case .group(let name):
                    try await Self.race(signal: signal, deadline: deadline) {
                        try await self.consume(group: name, initialCredit: request.initialCredit, control: control)
                    }
                case nil:
                    return Status(code: .invalidArgument, message: "SubscribeRequest.target: name a selector (catch_up) or a group")
                }
            case .queryRequest(let request):
                try await Self.race(signal: signal, deadline: deadline) {
                    let reply = try await self.context.views.query(request, limits: self.context.limits)
                    try await self.outbound.write(Frame(callID: self.callID, body: .queryReply(reply)))
                }
            case .adminRequest(let request):
                return try await self.admin(request)
            default:
                return Status(code: .internal, message: "call \(self.callID) started by a frame that starts no call")
            }
            return Status(code: .ok)
        } catch let error as CallError {
            return error.status
        } catch let error as StorageError {
            return CallError(error).status
        } catch is DeadlineExceeded {
            return Status(code: .deadlineExceeded, message: "the call's deadline passed")
        } catch is CancellationError {
            switch signal.reason {
            case .shutdown: return Status(code: .unavailable, message: "the server is shutting down")
            case .cancelledByClient, nil: return Status(code: .cancelled, message: "cancelled by the client")
            }
        } catch let error as WireError {
            return Status(code: error.code, message: error.message)
        } catch {
            if signal.reason != nil || Task.isCancelled {
                return Status(code: .cancelled, message: "cancelled")
            }
            self.logger.error("call failed", metadata: ["call": "\(self.callID)", "error": "\(error)"])
            return Status(code: .internal, message: "internal error: \(error)")
        }
    }

    /// Runs `work` until it ends, the call is signalled (Cancel, shutdown) or the deadline passes.
    static func race(
        signal: CallSignal,
        deadline: ContinuousClock.Instant?,
        _ work: @escaping @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask {
                if await signal.wait() != nil { throw CancellationError() }
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

    // MARK: Read

    private func read(_ request: LogbookWire.ReadRequest) async throws {
        let store = self.context.store
        let limits = self.context.limits
        let selector = try Conversions.selector(request.selector, limits: limits)
        let direction: ReadDirection = request.direction == .backwards ? .backwards : .forwards
        var start = try Conversions.start(request.from, selector: selector, direction: direction)
        let filter = Conversions.filter(request.filter)
        // A read is a snapshot: events committed after it started are not part of it.
        let head = store.headPosition
        var asOf = request.asOfPosition == 0 ? head : min(request.asOfPosition, head)
        if request.asOfTimeUnixMicros != 0 {
            guard request.asOfPosition == 0 else {
                throw CallError.badField("ReadRequest.as_of_time_unix_micros", "give as_of_position or as_of_time, not both")
            }
            let micros = request.asOfTimeUnixMicros
            asOf = min(head, try await self.context.threadPool.runIfActive { try store.position(atOrBeforeTime: micros) })
        }
        var remaining = request.maxCount == 0 ? UInt64.max : request.maxCount
        var batchLimit = limits.readBatchEventsMax

        while remaining > 0 {
            try Task.checkCancellation()
            let limit = Int(min(remaining, UInt64(batchLimit)))
            let query = LogbookStorage.ReadRequest(
                selector: selector, start: start, direction: direction, limit: limit, filter: filter, asOfPosition: asOf
            )
            let events: [LogbookStorage.RecordedEvent]
            do {
                events = try await self.context.threadPool.runIfActive { try store.read(query) }
            } catch let error as StorageError where error.code == .notFound {
                // A stream nobody has written to reads as empty, as in Message DB: a
                // projection that reads before the first append needs no special case.
                return
            }
            guard let last = events.last else { break }
            let bytes = try await self.send(events)
            remaining -= UInt64(events.count)
            guard events.count == limit else { break }
            // Large events: fetch fewer per batch, so one batch stays near readBatchBytesMax.
            let averageBytes = max(1, bytes / events.count)
            batchLimit = max(1, min(limits.readBatchEventsMax, limits.readBatchBytesMax / averageBytes))
            switch direction {
            case .forwards:
                start = .position(last.position + 1)
            case .backwards:
                guard last.position > 1 else { return }
                start = .position(last.position - 1)
            }
        }
    }

    /// Sends events in EventBatch frames of at most readBatchBytesMax each (at least one
    /// event per frame); returns the bytes sent.
    func send(_ events: [LogbookStorage.RecordedEvent]) async throws -> Int {
        let bytesMax = self.context.limits.readBatchBytesMax
        var batch: [LogbookWire.RecordedEvent] = []
        var batchBytes = 0
        var total = 0
        for event in events {
            let size = event.data.count + event.stream.utf8.count + event.type.utf8.count + 64
            if !batch.isEmpty, batchBytes + size > bytesMax {
                try await self.outbound.write(Frame(callID: self.callID, body: .eventBatch(EventBatch(events: batch))))
                batch.removeAll(keepingCapacity: true)
                batchBytes = 0
            }
            batch.append(Conversions.recordedEvent(event))
            batchBytes += size
            total += size
        }
        if !batch.isEmpty {
            try await self.outbound.write(Frame(callID: self.callID, body: .eventBatch(EventBatch(events: batch))))
        }
        return total
    }
}
