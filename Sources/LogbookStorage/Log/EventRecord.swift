internal import Foundation

/// An event as the log engine commits it: every field a read returns, with the
/// metadata already encoded (`MetadataCodec`), plus the category its stream belongs to.
///
/// The log writer builds these, the segment log stores them (`EventRecord`), the
/// unindexed tail serves them to readers, and the indexer turns them into rows.
struct StoredEvent: Sendable {
    var position: UInt64
    var stream: String
    var category: String
    var revision: UInt64
    var id: EventID
    var type: String
    var timeMicros: Int64
    var contentType: String
    var data: Data
    var metadata: Data
    var correlationID: String
    var causationID: String

    /// The event as a read returns it; nil when the stored metadata does not decode.
    var recorded: RecordedEvent? {
        guard let entries = metadata.withUnsafeBytes({ MetadataCodec.decode($0) }) else { return nil }
        return RecordedEvent(
            stream: stream, revision: revision, position: position, id: id, type: type,
            data: [UInt8](data), contentType: contentType, metadata: entries,
            correlationID: correlationID, causationID: causationID, timeMicros: timeMicros)
    }
}

/// The payload of one log record: one event.
///
/// ```
/// | offset | bytes | field                                                   |
/// |--------|-------|---------------------------------------------------------|
/// |      0 |     1 | format version (1)                                      |
/// |      1 |     7 | zero                                                    |
/// |      8 |     8 | revision in its stream                                  |
/// |     16 |     8 | commit time, microseconds since the Unix epoch (signed) |
/// |     24 |    16 | event id, big-endian (as the SQLite engine stores it)   |
/// |     40 |   ... | seven fields, each a 4-byte length then its bytes:      |
/// |        |       | stream, event type, content type, correlation id,       |
/// |        |       | causation id, metadata (`MetadataCodec`), data          |
/// ```
/// Integers are little-endian (the record frame's); the position is the frame's. The
/// category is not stored: it is a function of the stream name.
enum EventRecord {
    static let version: UInt8 = 1
    private static let fixedBytes = 40
    private static let fieldCount = 7

    /// The payload's length for `event`.
    static func length(of event: StoredEvent) -> Int {
        length(
            stream: event.stream, type: event.type, contentType: event.contentType,
            correlationID: event.correlationID, causationID: event.causationID,
            metadataBytes: event.metadata.count, dataBytes: event.data.count)
    }

    /// The payload's length for an event with these fields.
    static func length(
        stream: String, type: String, contentType: String, correlationID: String, causationID: String,
        metadataBytes: Int, dataBytes: Int
    ) -> Int {
        fixedBytes + 4 * fieldCount
            + stream.utf8.count + type.utf8.count + contentType.utf8.count
            + correlationID.utf8.count + causationID.utf8.count + metadataBytes + dataBytes
    }

    /// Writes `event` into `buffer`, which is exactly `length(of:)` bytes and zeroed.
    static func encode(_ event: StoredEvent, into buffer: UnsafeMutableRawBufferPointer) {
        buffer.storeLittleEndian(version, at: 0)
        buffer.storeLittleEndian(event.revision, at: 8)
        buffer.storeLittleEndian(event.timeMicros, at: 16)
        buffer.storeLittleEndian(event.id.high.bigEndian, at: 24)
        buffer.storeLittleEndian(event.id.low.bigEndian, at: 32)
        var offset = fixedBytes
        func put(_ bytes: some Collection<UInt8>) {
            let count = bytes.count
            buffer.storeLittleEndian(UInt32(count), at: offset)
            offset += 4
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
            if bytes.withContiguousStorageIfAvailable({ target.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
                target.copyBytes(from: bytes)
            }
            offset += count
        }
        put(event.stream.utf8)
        put(event.type.utf8)
        put(event.contentType.utf8)
        put(event.correlationID.utf8)
        put(event.causationID.utf8)
        put(event.metadata)
        put(event.data)
    }

    /// Reads a payload back; nil when it is not a well-formed version-1 event record
    /// (the caller names the segment and position in its error).
    static func decode(_ payload: UnsafeRawBufferPointer, position: UInt64) -> StoredEvent? {
        guard let fields = Fields(payload), let strings = fields.strings() else { return nil }
        return StoredEvent(
            position: position,
            stream: strings.stream,
            category: StreamName.category(of: strings.stream),
            revision: fields.revision,
            id: fields.id,
            type: strings.type,
            timeMicros: fields.timeMicros,
            contentType: strings.contentType,
            data: Data(fields.data),
            metadata: Data(fields.metadata),
            correlationID: strings.correlationID,
            causationID: strings.causationID)
    }

    /// The event a read returns, straight from a payload: what `decode(_:position:)` and
    /// then `StoredEvent.recorded` give, without the copies of data and metadata between.
    static func recorded(_ payload: UnsafeRawBufferPointer, position: UInt64) -> RecordedEvent? {
        guard let fields = Fields(payload), let strings = fields.strings(),
              let metadata = MetadataCodec.decode(fields.metadata)
        else { return nil }
        return RecordedEvent(
            stream: strings.stream, revision: fields.revision, position: position, id: fields.id, type: strings.type,
            data: [UInt8](fields.data), contentType: strings.contentType, metadata: metadata,
            correlationID: strings.correlationID, causationID: strings.causationID, timeMicros: fields.timeMicros)
    }

    /// A payload's fields, the variable ones still bytes of it.
    private struct Fields {
        var revision: UInt64
        var timeMicros: Int64
        var id: EventID
        var stream, type, contentType, correlationID, causationID, metadata, data: UnsafeRawBufferPointer

        init?(_ payload: UnsafeRawBufferPointer) {
            guard payload.count >= fixedBytes + 4 * fieldCount, payload[0] == version else { return nil }
            var offset = fixedBytes
            func take() -> UnsafeRawBufferPointer? {
                guard payload.count - offset >= 4 else { return nil }
                let count = Int(payload.loadLittleEndian(at: offset, as: UInt32.self))
                offset += 4
                guard payload.count - offset >= count else { return nil }
                defer { offset += count }
                return UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + count)])
            }
            guard let stream = take(), let type = take(), let contentType = take(),
                  let correlationID = take(), let causationID = take(),
                  let metadata = take(), let data = take(), offset == payload.count
            else { return nil }
            (self.stream, self.type, self.contentType, self.correlationID, self.causationID) =
                (stream, type, contentType, correlationID, causationID)
            (self.metadata, self.data) = (metadata, data)
            revision = payload.loadLittleEndian(at: 8, as: UInt64.self)
            timeMicros = payload.loadLittleEndian(at: 16, as: Int64.self)
            id = EventID(bigEndian: UnsafeRawBufferPointer(rebasing: payload[24..<40]))
        }

        /// The five strings, nil when one is not UTF-8.
        func strings() -> (stream: String, type: String, contentType: String, correlationID: String, causationID: String)? {
            guard let stream = String(validatingUTF8: stream), let type = String(validatingUTF8: type),
                  let contentType = String(validatingUTF8: contentType),
                  let correlationID = String(validatingUTF8: correlationID),
                  let causationID = String(validatingUTF8: causationID)
            else { return nil }
            return (stream, type, contentType, correlationID, causationID)
        }
    }
}
