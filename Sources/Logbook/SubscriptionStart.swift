/// Where a catch-up subscription starts. Every start is exclusive: the first event
/// delivered is the one after it.
public struct SubscriptionStart: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case start
        case end
        case afterPosition(UInt64)
        case afterRevision(UInt64)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// Before the first event: the whole history, then what is appended.
    public static let start = SubscriptionStart(.start)
    /// After the last event: only what is appended from now on.
    public static let end = SubscriptionStart(.end)
    /// After a position in the whole log, such as the last one a consumer stored.
    public static func after(position: UInt64) -> SubscriptionStart { SubscriptionStart(.afterPosition(position)) }
    /// After a revision inside a stream; only for a stream selector.
    public static func after(revision: UInt64) -> SubscriptionStart { SubscriptionStart(.afterRevision(revision)) }

    public var description: String {
        switch self.kind {
        case .start: "start"
        case .end: "end"
        case .afterPosition(let position): "after position \(position)"
        case .afterRevision(let revision): "after revision \(revision)"
        }
    }
}
