#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

extension LogbookClient {
    /// Reads events: one stream, the whole log, a category, an event type or a
    /// correlation id.
    ///
    /// The read starts when the sequence is first iterated, and streams: events arrive
    /// in batches while you iterate, and the server is held back while you are behind.
    /// Stopping the iteration (or cancelling its task) ends the call on the server.
    /// A stream that does not exist reads as empty.
    ///
    /// - Parameters:
    ///   - selector: What to read.
    ///   - from: Where to start; nil starts at the beginning in the read's direction
    ///     (the oldest event forwards, the newest backwards).
    ///   - direction: Forwards (oldest first) or backwards.
    ///   - limit: The most events to return; nil for all.
    ///   - filter: Keeps only some event types or stream-name prefixes.
    ///   - asOf: Reads the log as it was when this was its last position.
    ///   - asOfTime: Reads the log as it was at this time (up to the last position committed
    ///     at or before it); ignored when `asOf` is given.
    ///   - timeout: How long the server may take for the whole read; nil for no deadline.
    public func read(
        _ selector: ReadSelector,
        from: ReadPosition? = nil,
        direction: ReadDirection = .forwards,
        limit: Int? = nil,
        filter: ReadFilter? = nil,
        asOf: UInt64? = nil,
        asOfTime: Date? = nil,
        timeout: Duration? = nil
    ) -> ReadEvents {
        ReadEvents(
            client: self,
            options: ReadEvents.Options(
                selector: selector,
                from: from,
                direction: direction,
                limit: limit,
                filter: filter,
                asOf: asOf,
                asOfTime: asOfTime,
                timeout: timeout
            )
        )
    }
}
