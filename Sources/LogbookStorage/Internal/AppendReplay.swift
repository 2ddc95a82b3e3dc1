/// The rule both engines use to recognise a retried append whose reply was lost.
package enum AppendReplay {
    /// Where an event that already exists sits in its stream.
    package struct Found {
        package var revision: UInt64
        package var position: UInt64
        package var timeMicros: Int64

        package init(revision: UInt64, position: UInt64, timeMicros: Int64) {
            (self.revision, self.position, self.timeMicros) = (revision, position, timeMicros)
        }
    }

    /// The original result when every event of every stream of the append already
    /// exists in that stream, at consecutive revisions, in the given order. Nil otherwise.
    /// `found(write, id)` says where the event with `id` sits when it is in `write`'s stream.
    package static func result(
        _ append: PreparedAppend, found: (PreparedWrite, EventID) throws -> Found?
    ) rethrows -> AppendResult? {
        var results = [StreamWriteResult]()
        results.reserveCapacity(append.writes.count)
        var commitTime: Int64?
        for write in append.writes {
            var positions = [UInt64]()
            positions.reserveCapacity(write.events.count)
            var firstRevision: UInt64?
            for (offset, event) in write.events.enumerated() {
                guard let existing = try found(write, event.id) else { return nil }
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
}
