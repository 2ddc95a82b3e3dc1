/// Who in a persistent subscription group gets which event (DESIGN.md §5).
///
/// The raw values are the spellings stored in `groups.strategy` and shown by the `$groups`
/// system view: the one home of those names.
package enum GroupStrategy: String, Sendable, Hashable, CaseIterable {
    /// A stream's events go to one consumer, in order; the next waits for the previous to
    /// be acked. The default: projections need per-stream order.
    case byStream = "by_stream"
    /// Each event to the next consumer with room, in turn.
    case roundRobin = "round_robin"
    /// One active consumer; the others stand by and take over when it leaves.
    case single
}
