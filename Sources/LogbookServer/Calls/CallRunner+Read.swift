internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix

extension CallRunner {
    /// ReadStream: one snapshot of the log, sent in EventBatch frames of at most
    /// `readBatchBytesMax` each, and never more events than the client has granted
    /// (`credit`): a reader that stops taking events waits here, costing its connection
    /// nothing.
    func read(_ request: LogbookWire.ReadRequest, credit: CreditGate) async throws {
        let store = self.context.store
        let limits = self.context.limits
        let selector = try Conversions.selector(request.selector, limits: limits)
        let direction: ReadDirection = request.direction == .backwards ? .backwards : .forwards
        var start = try Conversions.readStart(request.from, selector: selector, direction: direction)
        let filter = Conversions.filter(request.filter)
        // A read is a snapshot: events committed after it started are not part of it.
        let asOf = try await TimeTravel.position(
            asOfPosition: request.asOfPosition, asOfTimeMicros: request.asOfTimeUnixMicros, request: "ReadRequest",
            store: store, threadPool: self.context.threadPool
        ) ?? store.headPosition
        var remaining = request.maxCount == 0 ? UInt64.max : request.maxCount
        var batchLimit = limits.readBatchEventsMax

        while remaining > 0 {
            try Task.checkCancellation()
            let granted = try await credit.available()
            let limit = Int(min(remaining, UInt64(batchLimit), granted))
            let query = LogbookStorage.ReadRequest(
                selector: selector, start: start, direction: direction, limit: limit, filter: filter, asOfPosition: asOf
            )
            let events = try await store.read(query, on: self.context.threadPool, deletedIsNotFound: true)
            guard let last = events.last else { break }
            credit.spend(UInt64(events.count))
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
        let limits = self.context.limits
        var batch: [LogbookWire.RecordedEvent] = []
        var batchBytes = 0
        var total = 0
        for event in events {
            let size = event.data.count + event.stream.utf8.count + event.type.utf8.count + limits.eventOverheadBytes
            if !batch.isEmpty, batchBytes + size > limits.readBatchBytesMax {
                try await self.write(.eventBatch(EventBatch(events: batch)))
                batch.removeAll(keepingCapacity: true)
                batchBytes = 0
            }
            batch.append(Conversions.recordedEvent(event))
            batchBytes += size
            total += size
        }
        if !batch.isEmpty {
            try await self.write(.eventBatch(EventBatch(events: batch)))
        }
        return total
    }
}
