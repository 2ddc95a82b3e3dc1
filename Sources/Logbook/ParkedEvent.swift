#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An event a group gave up delivering, until its parked events are replayed.
public struct ParkedEvent: Sendable, Hashable {
    public var event: RecordedEvent
    /// Why it was parked: the reason of the last nack, or what the daemon says (an ack
    /// timeout, too many deliveries, a held stream).
    public var reason: String
    /// How many times it was delivered before it was parked.
    public var attempts: Int
    /// When it was parked, in microseconds since the Unix epoch, as the server sent it.
    public var parkedAtUnixMicros: Int64

    public init(event: RecordedEvent, reason: String, attempts: Int, parkedAtUnixMicros: Int64) {
        self.event = event
        self.reason = reason
        self.attempts = attempts
        self.parkedAtUnixMicros = parkedAtUnixMicros
    }

    /// When it was parked.
    public var parkedAt: Date {
        Date(unixMicros: self.parkedAtUnixMicros)
    }
}
