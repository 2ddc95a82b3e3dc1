/// Rules about stream names shared by appends and reads.
enum StreamName {
    /// The part of a stream name before its first `-`, or the whole name without one
    /// (`order` for `order-42`).
    static func category(of stream: String) -> String {
        guard let dash = stream.utf8.firstIndex(of: UInt8(ascii: "-")) else { return stream }
        return String(stream[..<dash])
    }

    /// Names starting with `$` belong to the server (`$all`, `$streams`, …).
    static func isReserved(_ stream: String) -> Bool {
        stream.utf8.first == UInt8(ascii: "$")
    }
}
