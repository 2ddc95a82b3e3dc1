internal import Foundation
internal import GRDB

extension AppendWriter {
    /// Where an existing event sits, found through the unique event-id index.
    struct ExistingEvent {
        var streamID: Int64
        var stream: String
        var revision: UInt64
        var position: UInt64
        var timeMicros: Int64
    }

    /// The original result of a retried append whose reply was lost (`AppendReplay`).
    /// Reads only on the failure path, so successful appends pay nothing for it.
    func replayResult(_ append: PreparedAppend) throws -> AppendResult? {
        try AppendReplay.result(append) { write, id in
            guard let streamID = state.streams[write.stream]?.id,
                  let existing = try existingEvent(id), existing.streamID == streamID
            else { return nil }
            return AppendReplay.Found(revision: existing.revision, position: existing.position, timeMicros: existing.timeMicros)
        }
    }

    /// The error for the first event of the append whose id is already in use.
    func conflictError(_ append: PreparedAppend) throws -> StorageError? {
        for write in append.writes {
            for event in write.events {
                guard let existing = try existingEvent(event.id) else { continue }
                return AppendErrors.conflict(event.id, (existing.stream, existing.revision))
            }
        }
        return nil
    }

    /// Only on the failure path: the id's blob is made here, not for every event appended.
    private func existingEvent(_ id: EventID) throws -> ExistingEvent? {
        guard let row = try Row.fetchOne(statements.findEvent, arguments: [id.data]) else { return nil }
        let revision: Int64 = try row.decode(atIndex: 1)
        let position: Int64 = try row.decode(atIndex: 2)
        guard let revision = UInt64(exactly: revision), let position = UInt64(exactly: position) else {
            throw StorageError.corrupt("negative revision or position in the events table")
        }
        return ExistingEvent(
            streamID: try row.decode(atIndex: 0),
            stream: try row.decode(atIndex: 4),
            revision: revision,
            position: position,
            timeMicros: try row.decode(atIndex: 3))
    }
}
