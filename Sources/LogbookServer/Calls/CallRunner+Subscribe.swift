internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import NIOPosix

extension Calls {
    /// A catch-up subscription: history from the log, then every new commit, with no gap and
    /// no duplicate at the switch.
    ///
    /// There is one source of truth for both phases: the subscription reads the log by
    /// position up to the published head, then waits for the head to move and reads again.
    /// The writer publishes a position only after its commit is durable and never publishes
    /// p+1 before p, so what a read returns is exactly what was committed after the cursor,
    /// whether the subscriber is a year behind or live. Credit bounds what is in flight: a
    /// subscriber that stops reading costs one batch, and never slows the writer.
    func subscribe(_ request: CatchUp, credit: CreditGate) async throws {
        let store = self.context.store
        let limits = self.context.limits
        let selector = try Conversions.selector(request.selector, limits: limits)
        let filter = Conversions.filter(request.filter)
        var start = try self.subscriptionStart(request.from, selector: selector)
        var heads = store.headPositions().makeAsyncIterator()
        var caughtUp = false
        var lastCheckpoint = (position: start.cursor, time: ContinuousClock.now)

        while true {
            try Task.checkCancellation()
            let head = store.headPosition
            if start.cursor < head {
                let available = try await credit.available()
                let limit = Int(min(available, UInt64(limits.readBatchEventsMax)))
                var events = try await self.readAfter(start.cursor, upTo: head, selector: selector, filter: filter, limit: limit)
                // A short batch means nothing else matches up to the head.
                let scannedTo = events.count < limit ? head : (events.last?.position ?? head)
                if let minRevision = start.minRevision {
                    events.removeAll { $0.revision < minRevision }
                }
                if !events.isEmpty {
                    _ = try await self.send(events)
                    credit.spend(UInt64(events.count))
                }
                start.cursor = scannedTo
                if caughtUp, head - start.cursor >= limits.fellBehindEventsMin {
                    caughtUp = false
                    try await self.write(.fellBehind(FellBehind(position: start.cursor)))
                }
                // A filtered subscription says how far it has looked, so a client that
                // stores its position does not scan the skipped events again.
                if events.isEmpty, start.cursor > lastCheckpoint.position,
                    ContinuousClock.now - lastCheckpoint.time >= limits.checkpointInterval
                {
                    lastCheckpoint = (start.cursor, .now)
                    try await self.write(.checkpoint(Checkpoint(position: start.cursor)))
                }
                continue
            }
            if !caughtUp {
                caughtUp = true
                try await self.write(.caughtUp(CaughtUp(position: start.cursor)))
            }
            // Live: wait for the writer to publish a newer head.
            repeat {
                guard let next = await heads.next() else { return }  // the store closed
                try Task.checkCancellation()
                if next > start.cursor { break }
            } while true
        }
    }

    /// Where a subscription starts: the position after which events are sent, and for a
    /// stream started at a revision, the first revision to send.
    private func subscriptionStart(
        _ from: StartFrom?,
        selector: LogbookStorage.Selector
    ) throws(CallError) -> (cursor: UInt64, minRevision: UInt64?) {
        switch from?.kind {
        case nil, .start:
            return (0, nil)
        case .end:
            return (self.context.store.headPosition, nil)
        case .position(let position):
            return (position, nil)
        case .revision(let revision):
            guard case .stream = selector else {
                throw CallError.badField("StartFrom.revision", "a revision is a place in one stream; use a position for other selectors")
            }
            // Events after the revision: scanned from the start of the log, kept from the
            // next revision on.
            let (next, overflow) = revision.addingReportingOverflow(1)
            return (0, overflow ? .max : next)
        }
    }

    /// Events matching the selector with positions in (after, upTo], oldest first.
    private func readAfter(
        _ after: UInt64,
        upTo head: UInt64,
        selector: LogbookStorage.Selector,
        filter: ReadFilter?,
        limit: Int
    ) async throws -> [LogbookStorage.RecordedEvent] {
        let store = self.context.store
        let query = LogbookStorage.ReadRequest(
            selector: selector, start: .position(after + 1), direction: .forwards, limit: limit, filter: filter, asOfPosition: head
        )
        do {
            return try await self.context.threadPool.runIfActive { try store.read(query) }
        } catch let error as StorageError where error.code == .notFound {
            return []  // a stream nobody has written to yet
        }
    }

    private func write(_ body: Frame.Body) async throws {
        try await self.outbound.write(Frame(callID: self.callID, body: body))
    }
}
