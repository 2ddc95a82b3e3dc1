#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The wire's times are microseconds since the Unix epoch; these are the one conversion
/// each way.
extension Date {
    /// The time `unixMicros` microseconds after the Unix epoch.
    package init(unixMicros: Int64) {
        self.init(timeIntervalSince1970: Double(unixMicros) / 1_000_000)
    }

    /// Microseconds since the Unix epoch, rounded down; nil for a time the wire's as-of
    /// cannot carry (the epoch itself or before, where 0 means "none", or past `Int64`).
    package var unixMicrosAfterEpoch: Int64? {
        let micros = (self.timeIntervalSince1970 * 1_000_000).rounded(.down)
        guard micros >= 1, micros < 9.2e18 else { return nil }
        return Int64(micros)
    }
}
