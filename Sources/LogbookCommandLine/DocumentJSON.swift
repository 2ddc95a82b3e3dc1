internal import Logbook

/// Reading a view's documents for the command line's readable output: the members of an
/// object in their order, each value as its JSON text.
package enum DocumentJSON {
    /// The members of a JSON object, values as JSON text; nil when `json` is not an object.
    package static func members(_ json: String) -> [(key: String, value: String)]? {
        let bytes = Array(json.utf8)
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        guard !scanner.isAtEnd, bytes[scanner.index] == UInt8(ascii: "{") else { return nil }
        var members: [(key: String, value: String)] = []
        do {
            try scanner.scanObject { (scanner: inout JSONScanner, key: String) throws(JSONError) in
                let range = try scanner.scanValue()
                members.append((key, String(decoding: bytes[range], as: UTF8.self)))
            }
        } catch {
            return nil
        }
        return members
    }

    /// A value as a person reads it: a string without its quotes and escapes, anything
    /// else as its JSON text.
    package static func plain(_ value: String) -> String {
        guard value.hasPrefix("\"") else { return value }
        var scanner = JSONScanner(Array(value.utf8))
        return (try? scanner.scanString()) ?? value
    }
}
