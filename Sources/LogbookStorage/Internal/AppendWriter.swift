internal import Foundation
internal import GRDB
internal import Logging

/// Runs group commits on the writer connection; lives on the writer thread only.
///
/// One batch is one transaction. Each append (and each group write) in it runs inside
/// its own savepoint, so one that fails (wrong expected revision, id conflict, no such
/// group) rolls back alone and the others still commit. In-memory changes (stream
/// heads, dictionaries, the position counter) are made tentatively alongside and
/// recorded in an undo log, so a failed append or batch leaves memory exactly matching
/// the disk. Nothing becomes visible to
/// readers until COMMIT returned (with `SyncMode.full`, after the WAL fsync).
final class AppendWriter {
    /// How one append of a batch ended.
    enum Outcome {
        case appended(AppendResult)
        /// Every event already existed where the append puts them: nothing written.
        case replayed(AppendResult)
        /// A group write succeeded; the group's checkpoint after it.
        case grouped(UInt64)
        /// A lifecycle change succeeded; the stream's lifecycle after it.
        case lifecycle(StreamLifecycle)
        case failed(StorageError)
    }

    /// An error that ends the whole batch (the transaction cannot be trusted).
    struct BatchFailure: Error {
        var failure: SQLiteFailure
        var error: DatabaseError
    }

    /// Where an append's tentative changes began, to undo them.
    struct Mark {
        var undoCount: Int
        var touchedCount: Int
        var headPosition: UInt64
    }

    enum Undo {
        case streamCreated(String)
        case headMoved(String, previous: UInt64?)
        case eventTypeCreated(String)
        case categoryCreated(String)
        case rulesChanged(String, previous: StreamLifecycle?)
    }

    let db: Database
    /// Replaced after a statement fails: SQLite keeps a failed statement's error and
    /// GRDB would report it again on the statement's next use.
    var statements: WriterStatements
    var state: WriterState
    var undoLog: [Undo] = []
    /// Streams written by the batch's successful appends, to publish after COMMIT.
    var touchedStreams: [String] = []
    /// Readers' copy of the lifecycle rules; `rulesChanged` says the batch changed them.
    let rules: StreamRules
    var rulesChanged = false
    let queue: AppendQueue
    let published: PublishedState
    let logger: Logger
    /// For messages: which file a disk-full or I/O error concerns.
    let databasePath: String
    /// Set by a fail-stop; the writer thread then exits.
    var isStopped = false
    /// Replaced after a catch-up fails, for the same reason as `statements`.
    var indexer: SecondaryIndexer
    let indexing: IndexingPolicy
    /// The head at which the last catch-up failed (disk full, lock): not retried
    /// before a commit moves the head, so a full disk does not spin the writer.
    var indexingFailedAtHead: UInt64?
    /// Log engine: the sync mode of batches with group writes (index batches alone never
    /// sync: the log holds their events). Nil in the SQLite engine, where appends come
    /// through this writer and every batch has the store's sync mode.
    let logEngineGroupSync: SyncMode?

    /// Log engine: when storing the tail failed for lack of room (or a lock), the next
    /// attempt waits until then, so a full disk does not spin the indexer.
    var storeRetryAfter: ContinuousClock.Instant?

    /// Whether this writer is the log engine's indexer, storing the tail.
    var storesTail: Bool { logEngineGroupSync != nil }

    /// The SQLite engine's group commits; nil for the log engine's indexer, whose
    /// commits hold no appends (the log reports its own).
    let metrics: CommitMetrics?

    /// The log's last position: group starts at `.end` and parking resolve against it.
    var logHeadPosition: UInt64 {
        storesTail ? published.headPosition : state.headPosition
    }

    init(
        db: Database,
        databasePath: String,
        state: WriterState,
        queue: AppendQueue,
        published: PublishedState,
        indexing: IndexingPolicy,
        logEngineGroupSync: SyncMode?,
        rules: StreamRules,
        logger: Logger
    ) throws {
        self.rules = rules
        self.logEngineGroupSync = logEngineGroupSync
        self.metrics = logEngineGroupSync == nil ? CommitMetrics(store: StorageEngine.sqlite.rawValue) : nil
        self.db = db
        self.databasePath = databasePath
        self.statements = try WriterStatements(db)
        self.indexer = try SecondaryIndexer(db)
        self.indexing = indexing
        self.state = state
        self.queue = queue
        self.published = published
        self.logger = logger
    }

    /// Commits one batch and answers every write in it; in the log engine, stores the
    /// tail's events in the same transaction, before the group writes.
    func process(_ batch: [PendingWrite]) {
        // Between batches: nothing an undo log could need goes (`streamEntry`).
        state.streams.evictIfFull { _ in true }
        var chunks = storesTail ? published.unstoredChunks(after: state.headPosition) : []
        if !chunks.isEmpty, let retry = storeRetryAfter, ContinuousClock.now < retry { chunks = [] }
        guard !batch.isEmpty || !chunks.isEmpty else { return }
        let syncsGroups = storesTail && !batch.isEmpty && logEngineGroupSync == .full
        if syncsGroups { setSynchronous(.full) }
        defer { if syncsGroups { setSynchronous(.normal) } }
        let batchStart = mark()
        let time = nextCommitTime()
        var outcomes = [Outcome]()
        outcomes.reserveCapacity(batch.count)
        do {
            try run(statements.begin, failureIfOther: .fatal)
            for chunk in chunks {
                for event in chunk.events {
                    try store(event)
                }
            }
            for pending in batch {
                switch pending {
                case .append(let append):
                    outcomes.append(try apply(append.append, time: time))
                case .group(let write):
                    outcomes.append(try applyGroup(write.job, time: time))
                case .lifecycle(let write):
                    outcomes.append(try applyLifecycle(write))
                }
            }
            let commitStart = ContinuousClock.now
            try run(statements.commit, failureIfOther: .fatal)
            metrics?.synced(after: commitStart)
        } catch {
            let answer = abort(batch, failure: error, undoingTo: batchStart)
            if !chunks.isEmpty { noteStoreFailure(answer) }
            return
        }
        if !chunks.isEmpty { noteStoreFailure(nil) }
        metrics?.committed(events: Int(state.headPosition - batchStart.headPosition))
        publish()
        for (pending, outcome) in zip(batch, outcomes) {
            switch (pending, outcome) {
            case (.append(let append), .appended(let result)), (.append(let append), .replayed(let result)):
                append.completion(.success(result))
            case (.group(let write), .grouped(let checkpoint)):
                write.completion(.success(checkpoint))
            case (.lifecycle(let write), .lifecycle(let lifecycle)):
                write.completion(.success(lifecycle))
            case (_, .failed(let error)):
                pending.fail(error)
            default:
                pending.fail(StorageError(code: .internalError, message: "the writer mixed up the outcomes of a batch"))
            }
        }
    }

    /// One append inside the open transaction. Throws only what ends the batch.
    private func apply(_ append: PreparedAppend, time: Int64) throws(BatchFailure) -> Outcome {
        do {
            return try applyChecked(append, time: time)
        } catch let failure as BatchFailure {
            throw failure
        } catch let error as StorageError {
            return .failed(error)
        } catch let error as DatabaseError {
            let failure = SQLiteFailure(error)
            if failure.endsBatch { throw BatchFailure(failure: failure, error: error) }
            try renewStatements()
            let message = "append failed: \(error.message ?? "\(error)")"
            return .failed(StorageError(code: .internalError, message: message, cause: error))
        } catch {
            return .failed(StorageError(code: .internalError, message: "append failed: \(error)", cause: error))
        }
    }

    private func applyChecked(_ append: PreparedAppend, time: Int64) throws -> Outcome {
        if let mismatch = firstRevisionMismatch(append) {
            if let replay = try replayResult(append) { return .replayed(replay) }
            return .failed(mismatch)
        }
        let appendStart = mark()
        try run(statements.savepoint, failureIfOther: .fatal)
        do {
            var results = [StreamWriteResult]()
            results.reserveCapacity(append.writes.count)
            for write in append.writes {
                results.append(try self.write(write, time: time))
            }
            try statements.release.execute()
            return .appended(AppendResult(streams: results, commitTimeMicros: time))
        } catch {
            if let error = error as? DatabaseError, SQLiteFailure(error).endsBatch { throw error }
            try rollBackAppend(to: appendStart)
            if let error = error as? DatabaseError, SQLiteFailure(error) == .constraint {
                if let replay = try replayResult(append) { return .replayed(replay) }
                if let conflict = try conflictError(append) { return .failed(conflict) }
            }
            throw error
        }
    }

    private func firstRevisionMismatch(_ append: PreparedAppend) -> StorageError? {
        for write in append.writes {
            if let refusal = refusal(write, head: state.streams[write.stream]?.head) { return refusal }
        }
        return nil
    }

    private func write(_ write: PreparedWrite, time: Int64) throws -> StreamWriteResult {
        let stream = try streamEntry(named: write.stream, category: write.category)
        let first = stream.head.map { $0 + 1 } ?? 0
        var positions = [UInt64]()
        positions.reserveCapacity(write.events.count)
        for (offset, event) in write.events.enumerated() {
            let typeID = try eventTypeID(event.type)
            let position = state.headPosition + 1
            try statements.insertEvent.execute(EventRowInsert.Row(
                position: position, streamID: stream.id, revision: first + UInt64(offset), id: event.id,
                typeID: typeID, categoryID: stream.categoryID, timeMicros: time, contentType: event.contentType,
                data: event.data, metadata: event.metadata,
                correlationID: event.correlationID, causationID: event.causationID))
            state.headPosition = position
            positions.append(position)
        }
        let last = first + UInt64(write.events.count) - 1
        undoLog.append(.headMoved(write.stream, previous: stream.head))
        state.streams[write.stream]?.head = last
        touchedStreams.append(write.stream)
        noteAppended(write.stream, head: last)
        return StreamWriteResult(stream: write.stream, firstRevision: first, lastRevision: last, positions: positions)
    }

    private func nextCommitTime() -> Int64 {
        state.lastTimeMicros = max(state.lastTimeMicros, WallClock.nowMicros())
        return state.lastTimeMicros
    }

    /// A log-engine row's data and metadata: the log holds them, and reads take them
    /// from there (`LogEvents`), so they are not stored twice.
    private static let noBytes = Data()

    /// One committed event of the log engine's tail, as a row. The indexer keeps no
    /// heads: the log writer checks expected revisions, and readers ask it and SQLite.
    private func store(_ event: StoredEvent) throws {
        let stream = try streamEntry(named: event.stream, category: event.category)
        let typeID = try eventTypeID(event.type)
        try statements.insertEvent.execute(EventRowInsert.Row(
            position: event.position, streamID: stream.id, revision: event.revision, id: event.id,
            typeID: typeID, categoryID: stream.categoryID, timeMicros: event.timeMicros,
            contentType: event.contentType, data: Self.noBytes, metadata: Self.noBytes,
            correlationID: event.correlationID, causationID: event.causationID))
        state.headPosition = event.position
    }

    /// Log engine: tells the log writer whether the indexer can store the tail (it
    /// refuses appends with this error once the tail is full), and backs off after a
    /// failure that may pass (a full disk).
    private func noteStoreFailure(_ error: StorageError?) {
        published.noteIndexerProblem(error)
        storeRetryAfter = error.map { _ in ContinuousClock.now + StorageLimits.storeRetryDelay }
    }

    /// Sets `PRAGMA synchronous` between transactions (it cannot change inside one).
    /// A failure leaves the previous mode; the commit that follows reports any I/O error.
    private func setSynchronous(_ mode: SyncMode) {
        do {
            try db.execute(sql: "PRAGMA synchronous = \(mode.pragmaValue)")
        } catch {
            logger.error("cannot set the sync mode", metadata: ["mode": "\(mode.rawValue)", "error": "\(error)"])
        }
    }

    private func publish() {
        if rulesChanged {
            rules.publish(state.rules)
            rulesChanged = false
        }
        guard !storesTail else {
            published.publishStored(upTo: state.headPosition)
            undoLog.removeAll(keepingCapacity: true)
            touchedStreams.removeAll(keepingCapacity: true)
            return
        }
        var heads = [(String, UInt64)]()
        heads.reserveCapacity(touchedStreams.count)
        for name in touchedStreams {
            if let revision = state.streams[name]?.head {
                heads.append((name, revision))
            }
        }
        published.publish(headPosition: state.headPosition, heads: heads)
        undoLog.removeAll(keepingCapacity: true)
        touchedStreams.removeAll(keepingCapacity: true)
    }
}
