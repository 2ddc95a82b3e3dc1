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
