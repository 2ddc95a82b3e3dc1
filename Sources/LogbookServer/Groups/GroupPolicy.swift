/// How a persistent subscription group hands out its events, as its state machine uses it.
package struct GroupPolicy: Sendable, Hashable {
    /// Who gets which event. Behind a struct so strategies can be added.
    package struct Strategy: Sendable, Hashable, CustomStringConvertible {
        enum Kind: Hashable { case byStream, roundRobin, single }
        let kind: Kind

        /// A stream's events go to one consumer, in order; the next waits for the previous
        /// to be acked. The default: projections need per-stream order.
        package static let byStream = Strategy(kind: .byStream)
        /// Each event to the next consumer with room, in turn.
        package static let roundRobin = Strategy(kind: .roundRobin)
        /// One active consumer; the others stand by and take over when it leaves.
        package static let single = Strategy(kind: .single)

        package var description: String {
            switch self.kind {
            case .byStream: "by-stream"
            case .roundRobin: "round-robin"
            case .single: "single"
            }
        }
    }

    package var strategy: Strategy = .byStream
    /// Deliveries a consumer may hold unacked.
    package var maxInFlight: Int = 64
    /// How long a delivery may stay unacked before it is taken back and retried.
    package var ackTimeout: Duration = .seconds(30)
    /// Deliveries of one event before it is parked.
    package var maxDeliveries: Int = 10
    /// The wait before the first retry; it doubles with each attempt, up to 32 times.
    package var retryBackoff: Duration = .milliseconds(200)
    /// Events the group holds in memory at most (loaded, in flight, or settled above the
    /// checkpoint); the log is read further only as room frees up.
    package var bufferMax: Int = 4096

    package init() {}
}
