/// A place in the log to start from: the one shape behind ``ReadPosition``,
/// ``SubscriptionStart`` and ``GroupSettings/Start``, and so the one mapping to the wire's
/// `StartFrom` (in WireMapping.swift).
///
/// What a position means is the caller's: the first event of a read (or its last,
/// backwards), the event a subscription delivers after, the first event of a group. The
/// wire carries all of them the same way.
package enum StartPoint: Sendable, Hashable, CustomStringConvertible {
    /// The beginning of the log (or of the stream).
    case start
    /// The end of the log (or of the stream).
    case end
    /// A position in the whole log.
    case position(UInt64)
    /// A revision inside one stream; only for a stream selector.
    case revision(UInt64)

    /// `start`, `end`, `position N` or `revision N`: the words the public start types print.
    package var description: String {
        switch self {
        case .start: "start"
        case .end: "end"
        case .position(let position): "position \(position)"
        case .revision(let revision): "revision \(revision)"
        }
    }
}
