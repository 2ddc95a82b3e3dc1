/// Narrows a read to some events of what its selector covers.
package struct ReadFilter: Sendable, Hashable {
    /// Only events of these types; empty means every type.
    package var eventTypes: [String]
    /// Only events of streams whose name starts with this; empty means every stream.
    package var streamPrefix: String

    package init(eventTypes: [String] = [], streamPrefix: String = "") {
        self.eventTypes = eventTypes
        self.streamPrefix = streamPrefix
    }

    package var isEmpty: Bool { eventTypes.isEmpty && streamPrefix.isEmpty }

    /// Whether an event of `type` in `stream` passes, as the SQL of a read tests it: names
    /// compared byte for byte, the prefix by Unicode scalars (SQLite's `substr`).
    package func admits(type: String, stream: String) -> Bool {
        if !eventTypes.isEmpty, !eventTypes.contains(where: { type.utf8.elementsEqual($0.utf8) }) { return false }
        if !streamPrefix.isEmpty, !stream.unicodeScalars.starts(with: streamPrefix.unicodeScalars) { return false }
        return true
    }
}
