internal import LogbookStorage

/// How a persistent subscription group hands out its events, as its state machine uses it:
/// the group's stored settings in the machine's units, and the server's bounds on a group.
///
/// It has no defaults of its own: a group's settings come from its stored definition
/// (where the server filled a client's zeros from `LogbookWire.GroupDefaults`), the
/// bounds from `Limits`.
struct GroupPolicy: Sendable, Hashable {
    var strategy: GroupStrategy
    /// Deliveries a consumer may hold unacked.
    var maxInFlight: Int
    /// How long a delivery may stay unacked before it is taken back and retried.
    var ackTimeout: Duration
    /// Deliveries of one event before it is parked.
    var maxDeliveries: Int
    /// The wait before the first retry; it doubles with each attempt, at most
    /// `retryBackoffDoublingsMax` times.
    var retryBackoff: Duration
    /// Events the group holds in memory at most (loaded, in flight, or settled above the
    /// checkpoint); the log is read further only as room frees up.
    var bufferMax: Int
    var retryBackoffDoublingsMax: Int
    /// Settled entries the machine lets pile up at the front of its order before it
    /// compacts it.
    var compactionEntriesMin: Int

    init(
        strategy: GroupStrategy, maxInFlight: Int, ackTimeout: Duration, maxDeliveries: Int, retryBackoff: Duration,
        bufferMax: Int, retryBackoffDoublingsMax: Int, compactionEntriesMin: Int
    ) {
        self.strategy = strategy
        self.maxInFlight = maxInFlight
        self.ackTimeout = ackTimeout
        self.maxDeliveries = maxDeliveries
        self.retryBackoff = retryBackoff
        self.bufferMax = bufferMax
        self.retryBackoffDoublingsMax = retryBackoffDoublingsMax
        self.compactionEntriesMin = compactionEntriesMin
    }

    /// The policy of a stored group under the server's limits.
    init(_ definition: GroupDefinition, limits: Limits) {
        self.init(
            strategy: definition.strategy,
            maxInFlight: Int(definition.maxInFlight),
            ackTimeout: .milliseconds(Int(definition.ackTimeoutMilliseconds)),
            maxDeliveries: Int(definition.maxDeliveries),
            retryBackoff: .milliseconds(Int(definition.retryBackoffMilliseconds)),
            bufferMax: limits.groupBufferEventsMax,
            retryBackoffDoublingsMax: limits.groupRetryBackoffDoublingsMax,
            compactionEntriesMin: limits.groupCompactionEntriesMin)
    }
}
