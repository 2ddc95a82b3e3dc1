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

    /// The original result when every event of every stream of the append already
    /// exists in that stream, at consecutive revisions, in the given order: a retried
    /// append whose reply was lost. Nil otherwise. Reads only on the failure path, so
    /// successful appends pay nothing for it.
    func replayResult(_ append: PreparedAppend) throws -> AppendResult? {
        var results = [StreamWriteResult]()
        results.reserveCapacity(append.writes.count)
        var commitTime: Int64?
        for write in append.writes {
            guard let streamID = state.streams[write.stream]?.id else { return nil }
            var positions = [UInt64]()
            positions.reserveCapacity(write.events.count)
            var firstRevision: UInt64?
            for (offset, event) in write.events.enumerated() {
                guard let existing = try existingEvent(event.idBlob), existing.streamID == streamID else { return nil }
                let first = firstRevision ?? existing.revision
                guard existing.revision == first + UInt64(offset) else { return nil }
                firstRevision = first
                commitTime = commitTime ?? existing.timeMicros
                positions.append(existing.position)
            }
            guard let first = firstRevision else { return nil }
            results.append(StreamWriteResult(
                stream: write.stream,
                firstRevision: first,
                lastRevision: first + UInt64(write.events.count) - 1,
                positions: positions))
        }
        return AppendResult(streams: results, commitTimeMicros: commitTime ?? 0)
    }

    /// The error for the first event of the append whose id is already in use.
    func conflictError(_ append: PreparedAppend) throws -> StorageError? {
        for write in append.writes {
            for event in write.events {
                guard let existing = try existingEvent(event.idBlob) else { continue }
                return AppendErrors.conflict(event.id, (existing.stream, existing.revision))
            }
        }
        return nil
    }

    private func existingEvent(_ idBlob: Data) throws -> ExistingEvent? {
        guard let row = try Row.fetchOne(statements.findEvent, arguments: [idBlob]) else { return nil }
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
