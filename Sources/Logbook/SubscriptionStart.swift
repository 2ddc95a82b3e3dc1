/// Where a catch-up subscription starts. Every start is exclusive: the first event
/// delivered is the one after it.
public struct SubscriptionStart: Sendable, Hashable, CustomStringConvertible {
    package let point: StartPoint

    /// Before the first event: the whole history, then what is appended.
    public static let start = SubscriptionStart(point: .start)
    /// After the last event: only what is appended from now on.
    public static let end = SubscriptionStart(point: .end)
    /// After a position in the whole log, such as the last one a consumer stored.
    public static func after(position: UInt64) -> SubscriptionStart { SubscriptionStart(point: .position(position)) }
    /// After a revision inside a stream; only for a stream selector.
    public static func after(revision: UInt64) -> SubscriptionStart { SubscriptionStart(point: .revision(revision)) }

    public var description: String {
        switch self.point {
        case .start, .end: self.point.description
        case .position, .revision: "after \(self.point)"
        }
    }
}
