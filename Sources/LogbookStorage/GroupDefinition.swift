/// A persistent subscription group as created and updated by Admin calls.
///
/// `name`, `selector`, `start` and `filter` fix which events the group covers and can
/// only change by deleting and recreating it; the rest are settings `updateGroup`
/// replaces. Times are whole milliseconds, as the wire carries them.
///
/// Every setting is given: the defaults for what a client leaves out are the server's
/// (`LogbookWire.GroupDefaults`), never the store's.
package struct GroupDefinition: Sendable, Hashable {
    /// Unique among groups; 1…`StorageLimits.groupNameBytesMax` UTF-8 bytes, not starting with `$`.
    package var name: String
    package var selector: Selector
    package var start: GroupStart
    /// Empty means every event the selector covers.
    package var filter: ReadFilter
    package var strategy: GroupStrategy
    package var maxInFlight: UInt32
    package var ackTimeoutMilliseconds: UInt32
    package var maxDeliveries: UInt32
    package var retryBackoffMilliseconds: UInt32

    package init(
        name: String,
        selector: Selector,
        start: GroupStart,
        filter: ReadFilter,
        strategy: GroupStrategy,
        maxInFlight: UInt32,
        ackTimeoutMilliseconds: UInt32,
        maxDeliveries: UInt32,
        retryBackoffMilliseconds: UInt32
    ) {
        self.name = name
        self.selector = selector
        self.start = start
        self.filter = filter
        self.strategy = strategy
        self.maxInFlight = maxInFlight
        self.ackTimeoutMilliseconds = ackTimeoutMilliseconds
        self.maxDeliveries = maxDeliveries
        self.retryBackoffMilliseconds = retryBackoffMilliseconds
    }
}
