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

    var isEmpty: Bool { eventTypes.isEmpty && streamPrefix.isEmpty }
}
