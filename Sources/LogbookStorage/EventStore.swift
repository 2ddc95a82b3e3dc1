internal import GRDB
package import Logging
internal import Synchronization

/// The event log: atomic appends with group commit, and reads, on SQLite in WAL mode.
///
/// One writer thread commits every append that is waiting in one transaction (group
/// commit) and publishes positions only once COMMIT returned; reads run on a pool of
/// reader connections and see only published positions. See DESIGN.md §4.
package final class EventStore: Sendable {
    /// The database file's name inside the data directory.
    package static let databaseFileName = Schema.fileName

    /// The database file.
    package let databasePath: String

    let pool: DatabasePool
    let published: PublishedState
    /// Held for the store's lifetime: a second process on the same directory would break
    /// the single-writer invariants (positions and heads live in this process's memory).
    private let lock: DirectoryLock
    let queue = AppendQueue()
    private let writerFinished = CompletionSignal()
    private let isClosed = Atomic(false)
    private let logger: Logger

    /// Opens the log in `directory` (created if missing), or creates it.
    ///
    /// Refuses, without modifying it, a damaged file, a file that is not a Logbook
    /// database, or one written by a newer Logbook. `maxPageCount` caps the database
    /// size (`PRAGMA max_page_count`); it exists so tests can simulate a full disk.
    package convenience init(directory: String, sync: SyncMode, logger: Logger, maxPageCount: Int? = nil) throws {
        try self.init(directory: directory, sync: sync, logger: logger, maxPageCount: maxPageCount, indexing: .standard)
    }

    /// The same, with the writer's indexing policy chosen (tests pin the boundary
    /// between indexed and un-indexed events with it).
    init(directory: String, sync: SyncMode, logger: Logger, maxPageCount: Int?, indexing: IndexingPolicy) throws {
        let opened = try DatabaseOpener.open(
            directory: directory, sync: sync, maxPageCount: maxPageCount, indexing: indexing, logger: logger)
        self.pool = opened.pool
        self.lock = opened.lock
        self.databasePath = opened.path
        self.logger = logger
        self.published = PublishedState(
            headPosition: opened.state.headPosition, indexedUpTo: opened.state.indexedUpTo,
            heads: opened.state.publishedHeads)
        WriterThread(
            pool: opened.pool, databasePath: opened.path, state: opened.state, queue: queue,
            published: published, indexing: indexing, logger: logger, finished: writerFinished
        ).start()
        logger.info(
            "event log opened",
            metadata: [
                "path": "\(opened.path)", "sync": "\(sync.rawValue)",
                "head_position": "\(opened.state.headPosition)", "streams": "\(opened.state.streams.count)",
            ])
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
            try queue.enqueue(.append(PendingAppend(append: append, completion: completion)))
        } catch {
            completion(.failure(error))
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
    package func streamRevision(_ stream: String) -> UInt64? {
        published.head(of: stream)?.revision
    }

    /// The head position now, then again after every commit that moves it.
    ///
    /// Subscriptions wait on this to learn that new events can be read; a consumer
    /// that falls behind sees only the newest head (nothing queues up in memory).
    /// The sequence ends when the store closes.
    package func headPositions() -> AsyncStream<UInt64> {
        published.headPositions()
    }

    /// Stops accepting appends (they fail with `.stopped`), commits and answers those
    /// already queued, then closes the database. Safe to call more than once.
    package func close() async {
        queue.close()
        await writerFinished.wait()
        published.finishObservers()
        guard isClosed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        defer { lock.release() }
        do {
            try pool.close()
            logger.info("event log closed", metadata: ["path": "\(databasePath)"])
        } catch {
            logger.info("event log close failed", metadata: ["path": "\(databasePath)", "error": "\(error)"])
        }
    }

    /// A store dropped without `close()` still lets its writer drain and exit.
    deinit {
        queue.close()
    }

    func checkOpen() throws(StorageError) {
        if isClosed.load(ordering: .acquiring) {
            throw .stopped("the event store is closed")
        }
    }
}
