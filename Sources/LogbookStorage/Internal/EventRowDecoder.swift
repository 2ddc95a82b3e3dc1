internal import Foundation
internal import GRDB

/// Turns a row of `ReadQuery` into a `RecordedEvent`, checking what came off the disk.
///
/// A malformed id, a negative number or metadata that does not decode is reported as
/// `.corrupt` naming the position, never trapped on.
enum EventRowDecoder {
    static func decode(_ row: Row) throws -> RecordedEvent {
        let rawPosition: Int64 = try row.decode(atIndex: 0)
        guard let position = UInt64(exactly: rawPosition), position > 0 else {
            throw StorageError.corrupt("an event has the invalid position \(rawPosition)")
        }
        let rawRevision: Int64 = try row.decode(atIndex: 2)
        guard let revision = UInt64(exactly: rawRevision) else {
            throw damaged(position, "the negative revision \(rawRevision)")
        }
        guard let id = try row.withUnsafeData(atIndex: 3, { $0.flatMap { EventID(byteSequence: $0) } }) else {
            throw damaged(position, "an event id that is not 16 bytes")
        }
        guard let data = try row.withUnsafeData(atIndex: 7, { $0.map { [UInt8]($0) } }) else {
            throw damaged(position, "no data")
        }
        guard let metadata = try row.withUnsafeData(atIndex: 8, { decodeMetadata($0) }) else {
            throw damaged(position, "metadata that does not decode")
        }
        return RecordedEvent(
            stream: try row.decode(atIndex: 1),
            revision: revision,
            position: position,
            id: id,
            type: try row.decode(atIndex: 4),
            data: data,
            contentType: try row.decode(atIndex: 6),
            metadata: metadata,
            correlationID: try row.decode(atIndex: 9),
            causationID: try row.decode(atIndex: 10),
            timeMicros: try row.decode(atIndex: 5))
    }

    private static func decodeMetadata(_ data: Data?) -> [MetadataEntry]? {
        guard let data else { return nil }
        return data.withUnsafeBytes { MetadataCodec.decode($0) }
    }

    private static func damaged(_ position: UInt64, _ what: String) -> StorageError {
        StorageError.corrupt("the event at position \(position) has \(what)")
    }
}
