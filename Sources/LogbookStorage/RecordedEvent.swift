/// An event as the log holds it.
package struct RecordedEvent: Sendable, Equatable {
    package var stream: String
    package var revision: UInt64
    package var position: UInt64
    package var id: EventID
    package var type: String
    package var data: [UInt8]
    package var contentType: String
    package var metadata: [MetadataEntry]
    package var correlationID: String
    package var causationID: String
    /// Commit time, microseconds since the Unix epoch; never decreases with position.
    package var timeMicros: Int64

    package init(
        stream: String, revision: UInt64, position: UInt64, id: EventID, type: String, data: [UInt8],
        contentType: String, metadata: [MetadataEntry], correlationID: String, causationID: String, timeMicros: Int64
    ) {
        (self.stream, self.revision, self.position, self.id, self.type) = (stream, revision, position, id, type)
        (self.data, self.contentType, self.metadata) = (data, contentType, metadata)
        (self.correlationID, self.causationID, self.timeMicros) = (correlationID, causationID, timeMicros)
    }
}
