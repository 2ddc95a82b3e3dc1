/// One batch of a read.
package struct ReadRequest: Sendable, Hashable {
    package var selector: Selector
    package var start: ReadStart
    package var direction: ReadDirection
    /// At most this many events (1 … `StorageLimits.readBatchEventsMax`).
    package var limit: Int
    package var filter: ReadFilter?
    /// Time travel: only events at or below this position are visible.
    package var asOfPosition: UInt64?

    package init(
        selector: Selector,
        start: ReadStart = .start,
        direction: ReadDirection = .forwards,
        limit: Int,
        filter: ReadFilter? = nil,
        asOfPosition: UInt64? = nil
    ) {
        self.selector = selector
        self.start = start
        self.direction = direction
        self.limit = limit
        self.filter = filter
        self.asOfPosition = asOfPosition
    }
}

extension ReadRequest {
    /// Refuses a request no store can serve, before any store looks at it.
    package func validate() throws(StorageError) {
        guard (1...StorageLimits.readBatchEventsMax).contains(limit) else {
            throw .invalidArgument("read limit must be 1…\(StorageLimits.readBatchEventsMax), not \(limit)")
        }
        if case .revision = start {
            guard case .stream = selector else {
                throw .invalidArgument("a read from a revision needs a stream selector")
            }
        }
        if case .correlationID(let id) = selector, id.isEmpty {
            throw .invalidArgument("correlation id must not be empty")
        }
        if let filter, filter.eventTypes.count > StorageLimits.filterEventTypesMax {
            throw .invalidArgument("a filter may name at most \(StorageLimits.filterEventTypesMax) event types")
        }
    }

    /// The inclusive range of positions the read may return, before the selector, when
    /// positions up to `visible` exist; nil when it can return nothing.
    package func positionRange(visible: UInt64) -> ClosedRange<UInt64>? {
        guard visible >= 1 else { return nil }
        switch (direction, start) {
        case (.forwards, .start), (.forwards, .revision), (.backwards, .end), (.backwards, .revision):
            return 1...visible
        case (.forwards, .end), (.backwards, .start):
            return nil
        case (.forwards, .position(let position)):
            return position <= visible ? max(position, 1)...visible : nil
        case (.backwards, .position(let position)):
            return position >= 1 ? 1...min(position, visible) : nil
        }
    }
}
