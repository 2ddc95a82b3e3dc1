internal import Foundation

/// Rules about stream names shared by appends and reads.
package enum StreamName {
    /// The part of a stream name before its first `-`, or the whole name without one
    /// (`order` for `order-42`).
    package static func category(of stream: String) -> String {
        guard let dash = stream.utf8.firstIndex(of: UInt8(ascii: "-")) else { return stream }
        return String(stream[..<dash])
    }

    /// Names starting with `$` belong to the server (`$all`, `$streams`, …).
    package static func isReserved(_ stream: String) -> Bool {
        stream.utf8.first == UInt8(ascii: "$")
    }

    /// The name's canonical composition (NFC), which `streams.lookup_key` holds: equal
    /// for exactly the spellings Swift's `String` takes for one another, so SQLite, which
    /// compares bytes, finds a stream under any of them as the in-memory maps do. ASCII
    /// is its own NFC form (most names, and no call into Foundation).
    package static func lookupKey(_ stream: String) -> String {
        if stream.utf8.allSatisfy({ $0 < 0x80 }) { return stream }
        return stream.precomposedStringWithCanonicalMapping
    }
}
