internal import GRDB

/// Persistent subscription groups: definitions, durable progress and parked events
/// (DESIGN.md §5).
///
/// Every change goes through the single writer and its group commit, in a savepoint of
/// its own inside the same transactions as the appends, and returns once that commit is
/// durable (per the sync mode): a progress save that returned survives a `kill -9`.
/// Reads run on the reader pool and see every change that has returned.
extension EventStore {
    /// Creates a group and returns its initial checkpoint: 0 for `.start`, the head
    /// position at its commit for `.end`, the position before `p` for `.position(p)`.
    ///
    /// Throws `.groupExists` when the name is taken, `.invalidArgument` for a bad name
    /// (empty, over `StorageLimits.groupNameBytesMax` bytes, starting with `$`) or setting.
    package func createGroup(_ definition: GroupDefinition) async throws -> UInt64 {
        try await submit(.create(definition))
    }

    /// Replaces a group's settings (strategy, max in flight, ack timeout, max deliveries,
    /// retry backoff). Its selector, start and filter cannot change (`.invalidArgument`).
    package func updateGroup(_ definition: GroupDefinition) async throws {
        _ = try await submit(.update(definition))
    }

    /// Removes a group with its progress and its parked events. Throws
    /// `.failedPrecondition` while the group still writes views: drop them first.
    package func deleteGroup(_ name: String) async throws {
        _ = try await submit(.delete(name: name))
    }

    /// Persists what a group's state machine settled, in one atomic change; returns the
    /// stored checkpoint.
    ///
    /// The checkpoint never moves backwards here: a lower one is ignored (`resetGroup`
    /// moves it back). `settled` positions at or below the checkpoint are dropped, and
    /// those already stored at or below it are deleted. `parked` are added (replacing a
    /// position parked before), then `unparked` removed. `viewWrites` (validated before
    /// with `validateViewWrites`) are applied in the same savepoint, in order; a write to a
    /// view dropped since is skipped.
    @discardableResult
    package func saveGroupProgress(
        _ name: String, checkpoint: UInt64, settled: [UInt64], parked: [ParkedRecord], unparked: [UInt64],
        viewWrites: [ViewWrite] = []
    ) async throws -> UInt64 {
        try await submit(.saveProgress(GroupProgress(
            name: name, checkpoint: checkpoint, settled: settled, parked: parked, unparked: unparked, viewWrites: viewWrites)))
    }

    /// Sets a group's checkpoint to `position` (delivery resumes after it), or back to the
    /// one its start gave it at creation when nil; forgets the settled positions above it.
    /// Parked events stay parked. With `clearViews`, every document of the views the group
    /// writes is removed in the same change, so the group rebuilds them from the log.
    /// Returns the new checkpoint.
    @discardableResult
    package func resetGroup(_ name: String, to position: UInt64?, clearViews: Bool = false) async throws -> UInt64 {
        try await submit(.reset(name: name, checkpoint: position, clearViews: clearViews))
    }

    /// Every group, by name.
    package func groups() throws -> [StoredGroup] {
        try onReader { db in
            var groups = [StoredGroup]()
            let rows = try Row.fetchCursor(db.cachedStatement(sql: Schema.SQL.listGroups))
            while let row = try rows.next() {
                groups.append(try Self.storedGroup(GroupRowCodec.decode(row), db))
            }
            return groups
        }
    }

    /// One group, nil when there is none of that name.
    package func group(_ name: String) throws -> StoredGroup? {
        try onReader { db in
            try Self.findGroup(name, db).map { try Self.storedGroup($0, db) }
        }
    }

    /// At most `limit` parked events of the group with positions above `after`, in
    /// position order, each with the event as the log holds it; a replay pages through
    /// them by calling again from after the last one. Throws `.notFound` for no such group.
    package func parkedEvents(_ name: String, after: UInt64, limit: Int) throws -> [ParkedEvent] {
        guard (1...StorageLimits.parkedEventsPerListMax).contains(limit) else {
            throw StorageError.invalidArgument(
                "parked events limit must be 1…\(StorageLimits.parkedEventsPerListMax), not \(limit)")
        }
        // The join below needs the parked events in SQLite's `events`: wait (log engine)
        // only for the newest parked one, which was delivered long ago, and not at all
        // when nothing is parked (a group's start asks that).
        let newest = try onReader { db -> Int64? in
            guard let group = try Self.findGroup(name, db) else { throw Self.groupNotFound(name) }
            return try Int64.fetchOne(
                db.cachedStatement(sql: Schema.SQL.newestParked), arguments: [group.id, Int64(clamping: after)])
        }
        guard let newest else { return [] }
        try waitUntilStored(UInt64(clamping: newest))
        return try onReader { db in
            guard let group = try Self.findGroup(name, db) else { throw Self.groupNotFound(name) }
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: Self.parkedEventsSQL),
                arguments: [group.id, Int64(clamping: after), limit])
            var parked = [ParkedEvent]()
            while let row = try rows.next() {
                var event = try EventRowDecoder.decode(row)
                if let log { event = try Self.fromLog(event, log) }
                let attempts: Int64 = try row.decode(atIndex: 12)
                parked.append(ParkedEvent(
                    event: event,
                    reason: try row.decode(atIndex: 11),
                    attempts: UInt32(clamping: attempts),
                    parkedMicros: try row.decode(atIndex: 13)))
            }
            return parked
        }
    }

    /// Log engine: the parked event whole, from the log (its row holds no payload).
    private static func fromLog(_ row: RecordedEvent, _ log: SegmentLog) throws(StorageError) -> RecordedEvent {
        var events = [RecordedEvent]()
        try LogEvents.append([LogEvents.Key(row)], to: &events, from: log)
        return events[0]
    }

    /// How many events the group has parked. Throws `.notFound` for no such group.
    package func parkedCount(_ name: String) throws -> UInt64 {
        try onReader { db in
            guard let group = try Self.findGroup(name, db) else { throw Self.groupNotFound(name) }
            return try Self.parkedCount(groupID: group.id, db)
        }
    }

    /// The parked rows joined with their events, in the columns `EventRowDecoder` reads
    /// followed by reason, attempts and time; walks the group's range of `group_parked`.
    private static let parkedEventsSQL = """
        SELECT e.position, s.name, e.revision, e.event_id, t.name, e.time_us, e.content_type,
            e.data, e.metadata, e.correlation_id, e.causation_id,
            p.reason, p.attempts, p.parked_time_us
        FROM group_parked AS p
        CROSS JOIN events AS e ON e.position = p.position
        CROSS JOIN streams AS s ON s.id = e.stream_id
        CROSS JOIN event_types AS t ON t.id = e.type_id
        WHERE p.group_id = ? AND p.position > ?
        ORDER BY p.position
        LIMIT ?
        """

    /// Queues a checked group or view write for the writer; returns once it is committed.
    func submit(_ job: GroupJob) async throws -> UInt64 {
        let job = try job.validated()
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try queue.enqueue(.group(PendingGroupWrite(job: job) { continuation.resume(with: $0) }))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    private static func findGroup(_ name: String, _ db: Database) throws -> GroupRow? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: Schema.SQL.findGroup), arguments: [name]) else {
            return nil
        }
        return try GroupRowCodec.decode(row)
    }

    private static func storedGroup(_ group: GroupRow, _ db: Database) throws -> StoredGroup {
        var settled = [UInt64]()
        let rows = try Int64.fetchCursor(db.cachedStatement(sql: Schema.SQL.loadSettled), arguments: [group.id])
        while let position = try rows.next() {
            guard let position = UInt64(exactly: position), position > group.checkpoint else {
                throw StorageError.corrupt(
                    "group '\(group.definition.name)' has the settled position \(position) at or below its checkpoint")
            }
            settled.append(position)
        }
        return StoredGroup(
            definition: group.definition,
            checkpoint: group.checkpoint,
            settled: settled,
            parkedCount: try parkedCount(groupID: group.id, db),
            createdMicros: group.createdMicros)
    }

    private static func parkedCount(groupID: Int64, _ db: Database) throws -> UInt64 {
        let count = try Int64.fetchOne(db.cachedStatement(sql: Schema.SQL.countParked), arguments: [groupID]) ?? 0
        return UInt64(clamping: count)
    }

    private static func groupNotFound(_ name: String) -> StorageError {
        StorageError(code: .notFound, message: "group '\(name)' does not exist")
    }
}
