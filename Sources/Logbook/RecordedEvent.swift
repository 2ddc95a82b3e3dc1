#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// An event as the log holds it.
public struct RecordedEvent: Sendable, Hashable {
    /// The stream the event belongs to.
    public var stream: String
    /// Its index inside the stream: 0, 1, 2 …
    public var revision: UInt64
    /// Its index in the whole log: 1, 2, 3 … in commit order.
    public var position: UInt64
    public var id: UUID
    public var type: String
    public var data: [UInt8]
    /// How `data` is encoded; `application/octet-stream` when the appender did not say.
    public var contentType: String
    public var metadata: [String: String]
    public var correlationID: String?
    public var causationID: String?
    /// The commit time in microseconds since the Unix epoch, as the server sent it.
    public var timeUnixMicros: Int64

    /// The commit time.
    public var time: Date {
        Date(unixMicros: self.timeUnixMicros)
    }

    public init(
        stream: String,
        revision: UInt64,
        position: UInt64,
        id: UUID,
        type: String,
        data: [UInt8],
        contentType: String,
        metadata: [String: String] = [:],
        correlationID: String? = nil,
        causationID: String? = nil,
        timeUnixMicros: Int64
    ) {
        self.stream = stream
        self.revision = revision
        self.position = position
        self.id = id
        self.type = type
        self.data = data
        self.contentType = contentType
        self.metadata = metadata
        self.correlationID = correlationID
        self.causationID = causationID
        self.timeUnixMicros = timeUnixMicros
    }

    /// Whether `contentType` is JSON (`application/json` or a `+json` type).
    public var isJSON: Bool {
        ContentType.isJSON(self.contentType)
    }
}
