/// A parked event of a group, with the event itself as the log holds it.
package struct ParkedEvent: Sendable, Equatable {
    package var event: RecordedEvent
    package var reason: String
    package var attempts: UInt32
    /// The commit time of the save that parked it, microseconds since the Unix epoch.
    package var parkedMicros: Int64

    package init(event: RecordedEvent, reason: String, attempts: UInt32, parkedMicros: Int64) {
        self.event = event
        self.reason = reason
        self.attempts = attempts
        self.parkedMicros = parkedMicros
    }
}
