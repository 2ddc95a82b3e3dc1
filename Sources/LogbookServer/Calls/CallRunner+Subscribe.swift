internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix

extension LogbookStorage.RecordedEvent: CatchUpStateMachine.Event {}

extension CallRunner {
    /// A catch-up subscription: history from the log, then every new commit, with no gap and
    /// no duplicate at the switch (`CatchUpStateMachine` decides; this does the I/O).
    ///
    /// The writer publishes a position only after its commit is durable and never publishes
    /// p+1 before p, so what a read returns is exactly what was committed after the cursor,
    /// whether the subscriber is a year behind or live. Credit bounds what is in flight: a
    /// subscriber that stops reading costs one batch, and never slows the writer.
    func subscribe(_ request: CatchUp, credit: CreditGate) async throws {
        let store = self.context.store
        let limits = self.context.limits
        let selector = try Conversions.selector(request.selector, limits: limits)
        let filter = Conversions.filter(request.filter)
        let start = try Conversions.subscriptionStart(request.from, selector: selector, head: store.headPosition)
        var machine = CatchUpStateMachine(
            cursor: start.cursor, minRevision: start.minRevision, batchEventsMax: limits.readBatchEventsMax,
            fellBehindEventsMin: limits.fellBehindEventsMin, checkpointInterval: limits.checkpointInterval, now: .now)
        var heads = store.headPositions().makeAsyncIterator()

        while true {
            try Task.checkCancellation()
            let after: UInt64
            switch machine.head(store.headPosition) {
            case .read(let cursor, let head):
                let limit = machine.batchLimit(credit: try await credit.available())
                let events = try await self.readAfter(cursor, upTo: head, selector: selector, filter: filter, limit: limit)
                for action in machine.read(events, limit: limit, upTo: head, now: .now) {
                    switch action {
                    case .send(let events):
                        _ = try await self.send(events)
                        credit.spend(UInt64(events.count))
                    case .sendFellBehind(let position):
                        try await self.write(.fellBehind(FellBehind(position: position)))
                    case .sendCheckpoint(let position):
                        try await self.write(.checkpoint(Checkpoint(position: position)))
                    }
                }
                continue
            case .sendCaughtUp(let position):
                try await self.write(.caughtUp(CaughtUp(position: position)))
                after = position
            case .waitForHead(let position):
                after = position
            }
            // Live: wait for the writer to publish a newer head.
            repeat {
                guard let next = await heads.next() else { return }  // the store closed
                try Task.checkCancellation()
                if next > after { break }
            } while true
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
        let query = LogbookStorage.ReadRequest(
            selector: selector, start: .position(after + 1), direction: .forwards, limit: limit, filter: filter, asOfPosition: head
        )
        return try await self.context.store.read(query, on: self.context.threadPool)
    }
}
