/// Narrows a read: only events of these types, in streams whose names start with a prefix.
public struct ReadFilter: Sendable, Hashable {
    /// Event types to keep; empty keeps all.
    public var eventTypes: [String]
    /// Keep only events of streams whose names start with this.
    public var streamPrefix: String?

    public init(eventTypes: [String] = [], streamPrefix: String? = nil) {
        self.eventTypes = eventTypes
        self.streamPrefix = streamPrefix
    }
}
