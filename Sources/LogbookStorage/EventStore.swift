internal import Foundation
internal import GRDB
package import Logging
internal import Synchronization
internal import SystemPackage

/// The event log: atomic appends with group commit, reads, groups and views, on one of
/// two engines (DESIGN.md §4).
///
/// - SQLite engine: one writer thread commits every append that is waiting in one
///   transaction (group commit) and publishes positions only once COMMIT returned.
/// - Log engine: the log writer thread (`LogAppender`) commits appends into the segment
///   log with one `pwritev` and one `fdatasync` per group and publishes them with their
///   events as the in-memory tail; the SQLite writer thread becomes the indexer, storing
///   the tail as rows behind it, and commits group and view writes.
///
/// Either way reads run on a pool of reader connections (and the tail) and see only
/// published positions.
package final class EventStore: Sendable {
    /// The database file's name inside the data directory.
    package static let databaseFileName = Schema.fileName

    /// The database file.
    package let databasePath: String

    let pool: DatabasePool
    let published: PublishedState
    /// The streams with lifecycle rules, as readers see them.
    let rules = StreamRules()
    /// Held for the store's lifetime: a second process on the same directory would break
    /// the single-writer invariants (positions and heads live in this process's memory).
    private let lock: DirectoryLock
    /// The SQLite writer's queue: appends (SQLite engine) and group writes.
    let queue = AppendQueue()
    private let writerFinished = CompletionSignal()
    /// Which engine keeps this directory's events.
    package let engine: StorageEngine
    /// Log engine: whether this open rebuilt the event-id filter from the whole index
    /// rather than reading the saved one (tests check the start used the file).
    package let eventIDFilterRebuilt: Bool
    /// The log engine's segment log, its writer's queue and the writer's end.
    /// The log engine's segment log; reads take events from it (`LogEvents`).
    let log: SegmentLog?
    let logQueue: AppendQueue?
    /// The log engine's writer state, for appends committed on the caller's thread.
    private let logCommitter: LogCommitter?
    private let logWriterFinished = CompletionSignal()
    /// Ends the log engine's check of its sealed segments when the store closes.
    private let verifierStop = LogVerifier.StopFlag()
    private let isClosed = Atomic(false)
    private let logger: Logger

    /// Opens the log in `directory` (created if missing), or creates it.
    ///
    /// Refuses, without modifying it, a damaged file, a file that is not a Logbook
    /// database, or one written by a newer Logbook. `maxPageCount` caps the database
    /// size (`PRAGMA max_page_count`); it exists so tests can simulate a full disk.
    ///
    /// `engine`: the engine for a new directory (nil: `StorageEngine.defaultForNewDirectories`);
    /// an existing directory opens with the engine that wrote it, and asking for another
    /// is refused.
    /// `logSegmentBytes`: the size of the log engine's new segment files (default
    /// `LogLimits.segmentBytesDefault`); small ones let tests fill a small disk.
    package convenience init(
        directory: String, sync: SyncMode, logger: Logger, maxPageCount: Int? = nil, engine: StorageEngine? = nil,
        logSegmentBytes: Int64? = nil
    ) throws {
        try self.init(
            directory: directory, sync: sync, logger: logger, maxPageCount: maxPageCount, indexing: .standard,
            engine: engine, logSegmentBytes: logSegmentBytes)
    }

    /// The same, with the writer's indexing policy chosen (tests pin the boundary
    /// between indexed and un-indexed events with it) and, for the log engine, how many
    /// streams each thread keeps in memory (tests make it tiny so that lookups in SQLite
    /// are the rule).
    init(
        directory: String, sync: SyncMode, logger: Logger, maxPageCount: Int?, indexing: IndexingPolicy,
        engine requested: StorageEngine?, logSegmentBytes: Int64? = nil,
        streamsCached: Int = StorageLimits.streamsCachedMax
    ) throws {
        let engine = try StorageEngine.choose(directory: directory, requested: requested)
        if engine == .log {
            // Before the database file, so a directory is never taken for a SQLite-engine one.
            try Self.createLogFolder(in: directory)
        }
        let opened = try DatabaseOpener.open(
            directory: directory, sync: engine == .log ? .normal : sync, maxPageCount: maxPageCount,
            indexing: indexing, streamsCached: engine == .log ? streamsCached : nil, rules: rules, logger: logger)
        self.engine = engine
        self.pool = opened.pool
        self.lock = opened.lock
        Self.removeSnapshotLeftovers(in: directory)
        self.databasePath = opened.path
        self.logger = logger
        self.published = PublishedState(
            headPosition: opened.state.headPosition, indexedUpTo: opened.state.indexedUpTo,
            heads: opened.state.publishedHeads, headCount: opened.state.streams.count,
            streamsCached: engine == .log ? streamsCached : nil)
        var logHead = opened.state.headPosition
        switch engine {
        case .sqlite:
            rules.publish(opened.state.rules)
            (log, logQueue, logCommitter) = (nil, nil, nil)
            eventIDFilterRebuilt = false
        case .log:
            let log: SegmentLog
            let unstored: [StoredEvent]
            let filter: (filter: EventIDFilter, rebuilt: Bool)
            let headID: EventID?
            do {
                log = try SegmentLog.open(
                    dataDirectory: FilePath(directory), configuration: try LogConfiguration(
                        segmentBytes: logSegmentBytes ?? LogLimits.segmentBytesDefault, syncMode: sync),
                    knownDurablePosition: opened.state.headPosition, logger: logger)
                unstored = try Self.readUnstored(log, after: opened.state.headPosition)
                filter = try opened.pool.writeWithoutTransaction { db in
                    try EventIDFilter.open(
                        db, log: log, adding: unstored.map(\.id), expectedMore: StorageLimits.unstoredTailEventsMax,
                        logger: logger)
                }
                headID = try EventIDFilter.anchorID(at: log.headPosition, in: log)
                rules.publish(try Self.loadRules(opened.pool, tail: unstored))
            } catch {
                try? opened.pool.close()
                opened.lock.release()
                throw error
            }
            let logQueue = AppendQueue()
            (self.log, self.logQueue) = (log, logQueue)
            eventIDFilterRebuilt = filter.rebuilt
            // Memory starts with the heads of the tail's streams only: SQLite answers for
            // the others (`LogAppender.loadMissingHeads`), so nothing here grows with them.
            var tailHeads = [String: StreamHead]()
            if !unstored.isEmpty {
                for event in unstored { tailHeads[event.stream] = StreamHead(revision: event.revision, position: event.position) }
                _ = published.publish(headPosition: log.headPosition, heads: tailHeads.lazy.map { ($0.key, $0.value) }, tail: TailChunk(events: unstored))
            }
            logHead = log.headPosition
            logCommitter = LogWriterThread(
                log: log, pool: opened.pool, published: published, queue: logQueue, indexQueue: queue,
                heads: tailHeads, rules: rules, streamsCached: streamsCached,
                typeSpellings: Set(opened.state.eventTypes.keys).union(unstored.map(\.type)),
                categorySpellings: Set(opened.state.categories.keys).union(unstored.map(\.category)),
                headPosition: log.headPosition,
                lastTimeMicros: max(opened.state.lastTimeMicros, unstored.last?.timeMicros ?? 0),
                recent: unstored, filter: filter.filter, filterIsSaved: !filter.rebuilt, headID: headID,
                logger: logger, finished: logWriterFinished
            ).start()
            LogVerifier(log: log, queue: logQueue, stopping: verifierStop, logger: logger).start()
        }
        WriterThread(
            pool: opened.pool, databasePath: opened.path, state: opened.state, queue: queue,
            published: published, indexing: indexing, logEngineGroupSync: engine == .log ? sync : nil,
            rules: rules, logger: logger, finished: writerFinished
        ).start()
        if engine == .sqlite { logWriterFinished.signal() }
        logger.info(
            "event log opened",
            metadata: [
                "path": "\(directory)", "engine": "\(engine.rawValue)", "sync": "\(sync.rawValue)",
                "head_position": "\(logHead)",
                "unindexed": "\(logHead - opened.state.headPosition)",
            ])
    }

    /// Log engine: the lifecycle rules SQLite keeps, each brought up to its stream's
    /// head, which the unstored tail may have moved.
    private static func loadRules(_ pool: DatabasePool, tail: [StoredEvent]) throws -> [String: StreamLifecycle] {
        try pool.read { db in
            var rules = try StreamLifecycleRows.loadAll(db)
            guard !rules.isEmpty else { return rules }
            var tailHeads = [String: UInt64]()
            for event in tail where rules[event.stream] != nil { tailHeads[event.stream] = event.revision }
            for name in rules.keys {
                let head = try tailHeads[name] ?? StoredStreamHeads.head(db, name)?.revision
                rules[name]?.catchUp(head: head)
            }
            return rules
        }
    }

    private static func createLogFolder(in directory: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory + "/" + StorageEngine.logFolder, withIntermediateDirectories: true)
        } catch {
            throw StorageError(
                code: .invalidArgument, message: "cannot create the log folder in \(directory): \(error)", cause: error)
        }
    }

    /// The log's events after `position` (what SQLite held at open): the work the
    /// indexer has to redo, which bounds the time a start takes after a crash.
    private static func readUnstored(_ log: SegmentLog, after position: UInt64) throws(StorageError) -> [StoredEvent] {
        let head = log.headPosition
        guard head >= position else {
            throw .corrupt("""
                the log in \(log.directory) ends at position \(head), but its index holds events up to \(position); \
                the log lost acknowledged events (refusing to start)
                """)
        }
        var events = [StoredEvent]()
        var next = position + 1
        while next <= head {
            let records = try log.read(
                from: next, direction: .forwards, countMax: StorageLimits.readBatchEventsMax,
                bytesMax: LogLimits.readChunkBytes * 16)
            for record in records {
                let event = record.payload.withUnsafeBytes { EventRecord.decode($0, position: record.position) }
                guard let event else {
                    throw .corrupt("the log record at position \(record.position) in \(log.directory) is not an event")
                }
                events.append(event)
            }
            guard let last = records.last?.position else { break }
            next = last + 1
        }
        return events
    }

    /// Appends to one or more streams atomically: all of them or none.
    ///
    /// Suspends until the group commit that carries it is durable (per the sync mode).
    /// A retry of an append that already succeeded returns the original result and
    /// writes nothing.
    package func append(_ writes: [StreamWrite]) async throws -> AppendResult {
        try await withCheckedThrowingContinuation { continuation in
            self.append(writes) { continuation.resume(with: $0) }
        }
    }

    /// The same, reporting the outcome to `completion` on the writer thread once the commit
    /// is durable, for callers that answer from an event loop without a task hop.
    package func append(
        _ writes: [StreamWrite],
        completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void
    ) {
        do {
            let append = try AppendValidator.prepare(writes)
            try (logQueue ?? queue).enqueue(.append(PendingAppend(append: append, completion: completion)))
        } catch {
            completion(.failure(error))
        }
    }

    /// Checks an append on the calling thread without queueing it: a caller that gathers
    /// appends (an event loop, over one pass of its sockets) hands them to the writer
    /// together with `enqueue`, so the writer sees them in one batch and is woken once.
    package func check(
        _ writes: [StreamWrite],
        completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void
    ) throws(StorageError) -> CheckedAppend {
        CheckedAppend(pending: PendingAppend(append: try AppendValidator.prepare(writes), completion: completion))
    }

    /// Hands checked appends to the writer in one go. Each that cannot be queued (the
    /// queue is full, the store is stopping) is answered through its completion, at once.
    ///
    /// On the log engine, when nothing is queued and the writer is idle, the appends are
    /// committed here, on the calling thread, which blocks for the commit's sync: a lone
    /// client's append then costs no hand-off to the writer thread and back. An event
    /// loop, which runs its connections one after another anyway, gains; a task on
    /// Swift's cooperative pool must not call this (use `append`).
    package func enqueue(_ appends: [CheckedAppend]) {
        let writes = appends.map { PendingWrite.append($0.pending) }
        if let logCommitter {
            logCommitter.commit(writes)
        } else {
            queue.enqueue(contentsOf: writes)
        }
    }

    /// The position of the last committed event (0 for an empty log).
    package var headPosition: UInt64 {
        published.headPosition
    }

    /// The last position the read indexes cover; later ones are read by scanning.
    var indexedUpTo: UInt64 {
        published.indexedUpTo
    }

    /// The last committed revision of `stream`, nil when it does not exist.
    package func streamRevision(_ stream: String) throws -> UInt64? {
        let snapshot = published.snapshot(stream: stream)
        guard snapshot.streamIsUnknown else { return snapshot.streamRevision }
        return try onReader { db in try StoredStreamHeads.head(db, stream, asOf: snapshot.storedUpTo)?.revision }
    }

    /// The head position now, then again after every commit that moves it.
    ///
    /// Subscriptions wait on this to learn that new events can be read; a consumer
    /// that falls behind sees only the newest head (nothing queues up in memory).
    /// The sequence ends when the store closes.
    package func headPositions() -> AsyncStream<UInt64> {
        published.headPositions()
    }

    /// Calls `listener` with the head now and after every commit that moves it, on the
    /// committing thread: it must be short and must not block (see
    /// `PublishedState.onHeadPosition`).
    package func onHeadPosition(_ listener: @escaping @Sendable (UInt64) -> Void) {
        published.onHeadPosition(listener)
    }

    /// Stops accepting appends (they fail with `.stopped`), commits and answers those
    /// already queued, then closes the database. Safe to call more than once.
    package func close() async {
        verifierStop.stop()
        if let logQueue, let log {
            logQueue.close()
            await logWriterFinished.wait()
            do {
                try log.close()
            } catch {
                logger.error("log close failed", metadata: ["error": "\(error)"])
            }
        }
        queue.close()
        await writerFinished.wait()
        published.finishObservers()
        guard isClosed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        defer { lock.release() }
        do {
            // The reader connections first (GRDB closes the writer first): the last one to
            // close removes the WAL file, which only the writer may do, as readers are
            // read-only. The log writer's stream lookups use readers even when nothing else
            // read.
            pool.releaseMemory()
            try pool.close()
            logger.info("event log closed", metadata: ["path": "\(databasePath)"])
        } catch {
            logger.info("event log close failed", metadata: ["path": "\(databasePath)", "error": "\(error)"])
        }
    }

    /// A store dropped without `close()` still lets its writer drain and exit.
    deinit {
        logQueue?.close()
        queue.close()
    }

    func checkOpen() throws(StorageError) {
        if isClosed.load(ordering: .acquiring) {
            throw .stopped("the event store is closed")
        }
    }
}

extension EventStore {
    /// Why the store stopped taking appends for good (fail-stop after an I/O error, in
    /// either writer), nil while it takes them.
    package var writerFailure: String? {
        logQueue?.stopReason ?? queue.stopReason
    }

    /// Bytes on this host's disk, by part: `log` (the log engine's segment and index
    /// files) and `database` (SQLite's file, its WAL and shared memory).
    package func diskUsage() -> [String: UInt64] {
        let database = [databasePath, databasePath + "-wal", databasePath + "-shm"].reduce(0) { $0 + Self.fileSize($1) }
        guard let log else { return ["database": database] }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: log.directory.string)) ?? []
        let logBytes = files.reduce(0) { $0 + Self.fileSize(log.directory.string + "/" + $1) }
        return ["log": logBytes, "database": database]
    }

    private static func fileSize(_ path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.uint64Value ?? 0
    }
}
