/// An event as an appender proposes it, before the store gives it a revision and position.
package struct ProposedEvent: Sendable {
    /// The event id; nil lets the store assign a time-ordered `EventID.v7()`.
    package var id: EventID?
    package var type: String
    package var data: [UInt8]
    package var contentType: String
    package var metadata: [MetadataEntry]
    package var correlationID: String
    package var causationID: String

    package init(
        id: EventID? = nil,
        type: String,
        data: [UInt8],
        contentType: String = "application/json",
        metadata: [MetadataEntry] = [],
        correlationID: String = "",
        causationID: String = ""
    ) {
        self.id = id
        self.type = type
        self.data = data
        self.contentType = contentType
        self.metadata = metadata
        self.correlationID = correlationID
        self.causationID = causationID
    }
}
