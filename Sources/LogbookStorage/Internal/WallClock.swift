internal import Foundation

/// Wall-clock time in the units the log stores.
package enum WallClock {
    /// Microseconds since the Unix epoch.
    package static func nowMicros() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1_000_000)
    }
}
