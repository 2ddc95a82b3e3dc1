internal import GRDB

extension EventStore {
    /// One batch of at most `request.limit` events, read synchronously on a reader
    /// connection; the caller pages by calling again from after the last event.
    ///
    /// Sees only committed and published positions (and none above `asOfPosition`).
    /// Reading a stream that does not exist throws `.notFound`, and so does reading a
    /// deleted one (with a `streamDeleted` detail); every other selector returns an empty
    /// batch when nothing matches. Events hidden by their stream's lifecycle rules are
    /// left out, inside the limit (a short batch still means nothing more matches).
    package func read(_ request: ReadRequest) throws -> [RecordedEvent] {
        try checkOpen()
        var streamName: String?
        if case .stream(let name) = request.selector { streamName = name }
        let visibility = ReadVisibility(rules.current, nowMicros: WallClock.nowMicros)
        if let streamName, let lifecycle = visibility?.rules[streamName], lifecycle.readsAsNotFound {
            throw AppendErrors.readOfDeleted(streamName, lifecycle)
        }
        let snapshot = published.snapshot(stream: streamName)
        if let streamName, snapshot.streamIsUnknown {
            // Not in memory (log engine): SQLite holds all of the stream up to the
            // snapshot (`PublishedState` says why).
            return try onReader { db in
                var snapshot = snapshot
                let found = try StoredStreamHeads.head(db, streamName, asOf: snapshot.storedUpTo)
                (snapshot.streamRevision, snapshot.streamName) = (found?.revision, found?.name)
                guard let query = try Self.query(request, snapshot, log: log, visibility) else { return [] }
                return try query.run(db)
            }
        }
        guard let query = try Self.query(request, snapshot, log: log, visibility) else { return [] }
        guard query.needsDatabase else { return try query.run(nil) }
        return try onReader { db in try query.run(db) }
    }

    /// The read's statements and tail scan; nil when it can match nothing. A stream
    /// that does not exist (as of the snapshot) is `.notFound`.
    private static func query(
        _ request: ReadRequest, _ snapshot: ReadSnapshot, log: SegmentLog?, _ visibility: ReadVisibility?
    ) throws -> ReadQuery? {
        if case .stream(let name) = request.selector, snapshot.streamRevision == nil {
            throw StorageError(code: .notFound, message: "stream '\(name)' does not exist")
        }
        return try ReadQuery(request, snapshot: snapshot, streamName: snapshot.streamName, log: log, visibility: visibility)
    }

    /// Waits until SQLite's `events` holds every position up to `position`: the log
    /// engine's indexer stores committed events a moment after their commit, and the
    /// few reads that join `events` in SQL cannot take them from the tail.
    func waitUntilStored(_ position: UInt64) throws(StorageError) {
        guard !published.waitUntilStored(position, wake: queue.nudge) else { return }
        throw StorageError(
            code: .overloaded,
            message: "the indexer has not stored position \(position) yet (it is \(headPosition - published.storedUpTo) events behind); try again")
    }

    /// Runs `body` on a reader connection, turning SQLite's errors into the store's.
    func onReader<T>(_ body: (Database) throws -> T) throws -> T {
        try onReader(isolated: true, body)
    }

    /// The same; with `isolated` false the statements run without a transaction around
    /// them, each on its own snapshot. For a read that is one statement that is the same
    /// answer without the BEGIN and COMMIT, and the locks they take, per call.
    func onReader<T>(isolated: Bool, _ body: (Database) throws -> T) throws -> T {
        try checkOpen()
        do {
            return isolated ? try pool.read(body) : try pool.unsafeRead(body)
        } catch let error as StorageError {
            throw error
        } catch let error as DatabaseError {
            throw Self.readError(error)
        } catch {
            throw StorageError(code: .internalError, message: "read failed: \(error)", cause: error)
        }
    }

    static func readError(_ error: DatabaseError) -> StorageError {
        let message = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StorageError.corrupt("read failed: \(message)", cause: error)
        default:
            return StorageError(code: .internalError, message: "read failed: \(message)", cause: error)
        }
    }
}
