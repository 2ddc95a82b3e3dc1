/// What a catch-up subscription delivers: an event, or news about where it stands.
///
/// A struct rather than an enum so that kinds can be added without breaking a `switch`
/// (a persistent group will add deliveries). Every message carries a ``position``: the
/// place in the log that everything before it has been delivered up to, so a consumer
/// that stores its position stores `message.position` whatever the kind.
///
/// ```swift
/// for try await message in client.subscribe(.category("order")) {
///     if let event = message.event {
///         try await project(event)
///     } else if message.isCaughtUp {
///         print("live from", message.position)
///     }
/// }
/// ```
public struct SubscriptionMessage: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case event(RecordedEvent)
        case caughtUp(UInt64)
        case fellBehind(UInt64)
        case checkpoint(UInt64)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// An event of the subscription, in position order.
    public static func event(_ event: RecordedEvent) -> SubscriptionMessage { SubscriptionMessage(.event(event)) }
    /// History is exhausted at this position; what follows is live.
    public static func caughtUp(position: UInt64) -> SubscriptionMessage { SubscriptionMessage(.caughtUp(position)) }
    /// The subscriber was live but fell this far behind the head; it reads history again
    /// until the next ``caughtUp(position:)``.
    public static func fellBehind(position: UInt64) -> SubscriptionMessage { SubscriptionMessage(.fellBehind(position)) }
    /// A filtered subscription has looked at every event up to this position; nothing
    /// up to it that matches is left to deliver.
    public static func checkpoint(position: UInt64) -> SubscriptionMessage { SubscriptionMessage(.checkpoint(position)) }

    /// The event, when this message is one.
    public var event: RecordedEvent? {
        if case .event(let event) = self.kind { return event }
        return nil
    }

    public var isCaughtUp: Bool {
        if case .caughtUp = self.kind { return true }
        return false
    }

    public var isFellBehind: Bool {
        if case .fellBehind = self.kind { return true }
        return false
    }

    public var isCheckpoint: Bool {
        if case .checkpoint = self.kind { return true }
        return false
    }

    /// Where the subscription stands: the event's position, or the position the marker
    /// names. Subscribing again `.after(position:)` this resumes with what follows.
    public var position: UInt64 {
        switch self.kind {
        case .event(let event): event.position
        case .caughtUp(let position), .fellBehind(let position), .checkpoint(let position): position
        }
    }

    public var description: String {
        switch self.kind {
        case .event(let event): "event \(event.stream)@\(event.revision) at \(event.position)"
        case .caughtUp(let position): "caught up at \(position)"
        case .fellBehind(let position): "fell behind at \(position)"
        case .checkpoint(let position): "checkpoint at \(position)"
        }
    }
}
