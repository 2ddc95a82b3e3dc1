/// An event to park for a group, as `saveGroupProgress` takes it.
package struct ParkedRecord: Sendable, Hashable {
    package var position: UInt64
    /// Why it was parked; cut to `StorageLimits.parkReasonBytesMax` UTF-8 bytes.
    package var reason: String
    /// Deliveries made before it was parked.
    package var attempts: UInt32

    package init(position: UInt64, reason: String, attempts: UInt32) {
        self.position = position
        self.reason = reason
        self.attempts = attempts
    }
}
