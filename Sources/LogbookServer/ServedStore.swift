package import LogbookPostgres
package import LogbookStorage
package import NIOPosix

/// What the server needs of a store (DESIGN §4): the embedded `EventStore`, on the log
/// or the SQLite engine, or the `PostgresStore` that several daemons share (§10).
///
/// It lives here rather than in LogbookStorage because of how blocking work runs: the
/// embedded store reads SQLite synchronously, so the calls that may read at length take
/// the server's thread pool and run there (as they always did), while the PostgreSQL
/// store, which never blocks a thread, ignores it. The other synchronous calls are
/// short reads of small tables, made inline as before.
package protocol ServedStore: AnyObject, Sendable {
    // MARK: The log
    var headPosition: UInt64 { get }
    func headPositions() -> AsyncStream<UInt64>
    func onHeadPosition(_ listener: @escaping @Sendable (UInt64) -> Void)
    func check(
        _ writes: [StreamWrite], completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void
    ) throws(StorageError) -> CheckedAppend
    func enqueue(_ appends: [CheckedAppend])
    /// One batch of a read; `.notFound` for a stream that does not exist.
    func readBatch(_ request: ReadRequest, on threadPool: NIOThreadPool) async throws -> [RecordedEvent]
    func position(atOrBeforeTime micros: Int64, on threadPool: NIOThreadPool) async throws -> UInt64
    /// The bytes the store takes on this host's disk, by part (`log`, `database`); none
    /// for a store elsewhere.
    func diskUsage() -> [String: UInt64]
    /// Why the store stopped taking appends for good, nil while it takes them.
    var writerFailure: String? { get }
    /// A consistent copy of the store at one position, for a backup.
    func backupSnapshot(on threadPool: NIOThreadPool) async throws -> StoreSnapshot
    func close() async

    // MARK: Stream lifecycle
    /// Deletes a stream (soft, or for good with `hard`) if `expected` holds.
    func deleteStream(_ stream: String, expected: ExpectedRevision, hard: Bool) async throws -> StreamLifecycle
    /// Replaces a stream's bounds (max count, max age, truncate before).
    func setStreamBounds(_ stream: String, _ bounds: StreamLifecycle.Bounds) async throws -> StreamLifecycle
    /// A stream's last revision, bounds and delete state.
    func streamLifecycle(_ stream: String, on threadPool: NIOThreadPool) async throws -> StreamLifecycle

    // MARK: Groups
    /// True when other daemons share the store: groups may be created, changed and
    /// deleted by them, and each daemon delivers the share of a group it claims.
    var isShared: Bool { get }
    func groups() async throws -> [StoredGroup]
    func group(_ name: String) async throws -> StoredGroup?
    /// How long a claim on a group lasts unless renewed; nil when the store serves one
    /// daemon, which always holds the whole group.
    func groupLease(for definition: GroupDefinition) -> Duration?
    /// Renews the daemon's claim (`wanted`: it has consumers in the group) and returns its
    /// share with the progress to start from; nil for no such group.
    func claimGroup(_ name: String, wanted: Bool, lease: Duration) async throws -> GroupClaim?
    func createGroup(_ definition: GroupDefinition) async throws -> UInt64
    func updateGroup(_ definition: GroupDefinition) async throws
    func deleteGroup(_ name: String) async throws
    /// Saves what a state machine built for `share` settled; refused (`.failedPrecondition`)
    /// when the share is no longer the daemon's.
    @discardableResult
    func saveGroupProgress(
        _ name: String, checkpoint: UInt64, settled: [UInt64], parked: [ParkedRecord], unparked: [UInt64],
        viewWrites: [ViewWrite], share: GroupShare
    ) async throws -> UInt64
    @discardableResult
    func resetGroup(_ name: String, to position: UInt64?, clearViews: Bool) async throws -> UInt64
    func parkedEvents(_ name: String, after: UInt64, limit: Int) async throws -> [ParkedEvent]
    func parkedCount(_ name: String) async throws -> UInt64

    /// The lowest checkpoint of each named group that exists, as stored (a shared store).
    func groupCheckpoints(_ names: [String]) async throws -> [String: UInt64]
    /// Calls `listener` after a group changed on any daemon (a shared store; never else).
    func onGroupChange(_ listener: @escaping @Sendable (GroupChange) -> Void)

    // MARK: Views and Query
    func views() async throws -> [ViewDefinition]
    func defineView(_ definition: ViewDefinition) async throws
    func dropView(_ name: String) async throws
    func validateViewWrites(_ writes: [ViewWrite], group: String, deliveries: Int) async throws
    /// `validateViewWrites` for the writes of several acks (each with its count of
    /// deliveries): for each, nil when good, else the refusal. Several round trips become one.
    func viewWriteRefusals(_ acks: [(writes: [ViewWrite], deliveries: Int)], group: String) async -> [(any Error)?]
    /// One page of a view, `$streams` or `$event_types`.
    func query(_ query: ViewQuery, on threadPool: NIOThreadPool) async throws -> ViewPage
    func query(_ query: ViewQuery, rows: [ViewRow]) async throws -> ViewPage
    /// A reader for the lookups an event loop answers itself (`QueryService.lookup`);
    /// only a store on this host's disk makes them (`servesLookups`).
    var servesLookups: Bool { get }
    func makeViewLookupReader() throws -> ViewLookupReader
}

extension ServedStore {
    /// Each ack checked on its own: what a store on this host does, as cheaply.
    package func viewWriteRefusals(_ acks: [(writes: [ViewWrite], deliveries: Int)], group: String) async -> [(any Error)?] {
        var refusals = [(any Error)?]()
        for ack in acks {
            do {
                try await self.validateViewWrites(ack.writes, group: group, deliveries: ack.deliveries)
                refusals.append(nil)
            } catch {
                refusals.append(error)
            }
        }
        return refusals
    }

    /// A read batch for the server's callers: a stream nobody has written to reads as
    /// empty, as in Message DB, so a projection or a subscription that reads before the
    /// first append needs no special case. So does a deleted stream, unless
    /// `deletedIsNotFound` (ReadStream): a subscription waits there for its recreation.
    func read(
        _ request: ReadRequest, on threadPool: NIOThreadPool, deletedIsNotFound: Bool = false
    ) async throws -> [RecordedEvent] {
        do {
            return try await readBatch(request, on: threadPool)
        } catch let error as StorageError where error.code == .notFound {
            if deletedIsNotFound, case .streamDeleted = error.detail { throw error }
            return []
        }
    }
}

extension EventStore: ServedStore {
    package func readBatch(_ request: ReadRequest, on threadPool: NIOThreadPool) async throws -> [RecordedEvent] {
        try await threadPool.runIfActive { try self.read(request) }
    }

    package func position(atOrBeforeTime micros: Int64, on threadPool: NIOThreadPool) async throws -> UInt64 {
        try await threadPool.runIfActive { try self.position(atOrBeforeTime: micros) }
    }

    package var isShared: Bool { false }

    package func streamLifecycle(_ stream: String, on threadPool: NIOThreadPool) async throws -> StreamLifecycle {
        try await threadPool.runIfActive { try self.streamLifecycle(stream) }
    }

    package func backupSnapshot(on threadPool: NIOThreadPool) async throws -> StoreSnapshot {
        try await threadPool.runIfActive { try self.snapshot() }
    }

    package func groupLease(for definition: GroupDefinition) -> Duration? { nil }

    package func claimGroup(_ name: String, wanted: Bool, lease: Duration) async throws -> GroupClaim? {
        try group(name).map(GroupClaim.init)
    }

    package func groupCheckpoints(_ names: [String]) async throws -> [String: UInt64] {
        var checkpoints = [String: UInt64]()
        for name in names {
            if let group = try group(name) { checkpoints[name] = group.checkpoint }
        }
        return checkpoints
    }

    /// One daemon's store: its runtimes publish their checkpoints themselves.
    package func onGroupChange(_ listener: @escaping @Sendable (GroupChange) -> Void) {}

    package func query(_ query: ViewQuery, on threadPool: NIOThreadPool) async throws -> ViewPage {
        try await threadPool.runIfActive { try self.query(query) }
    }

    package var servesLookups: Bool { true }

    package func saveGroupProgress(
        _ name: String, checkpoint: UInt64, settled: [UInt64], parked: [ParkedRecord], unparked: [UInt64],
        viewWrites: [ViewWrite], share: GroupShare
    ) async throws -> UInt64 {
        try await saveGroupProgress(
            name, checkpoint: checkpoint, settled: settled, parked: parked, unparked: unparked, viewWrites: viewWrites)
    }
}

/// The PostgreSQL store serves the log (appends, reads, subscriptions, time travel),
/// persistent groups and views, shared by its daemons.
extension PostgresStore: ServedStore {
    package func readBatch(_ request: ReadRequest, on threadPool: NIOThreadPool) async throws -> [RecordedEvent] {
        try await read(request)
    }

    package func position(atOrBeforeTime micros: Int64, on threadPool: NIOThreadPool) async throws -> UInt64 {
        try await position(atOrBeforeTime: micros)
    }

    package func diskUsage() -> [String: UInt64] { [:] }

    /// PostgreSQL reports its own failures per transaction; the daemon never stops for them.
    package var writerFailure: String? { nil }

    package var isShared: Bool { true }

    package func streamLifecycle(_ stream: String, on threadPool: NIOThreadPool) async throws -> StreamLifecycle {
        try await streamLifecycle(stream)
    }

    /// PostgreSQL has its own backups (pg_dump, base backups with WAL archiving), which
    /// cover every daemon's state at once.
    package func backupSnapshot(on threadPool: NIOThreadPool) async throws -> StoreSnapshot {
        throw StorageError(
            code: .unimplemented,
            message: "logbook backup copies a data directory; back up the PostgreSQL store with pg_dump or a base backup")
    }

    package func groupLease(for definition: GroupDefinition) -> Duration? {
        Self.groupLease(for: definition)
    }

    package func query(_ query: ViewQuery, on threadPool: NIOThreadPool) async throws -> ViewPage {
        try await self.query(query)
    }

    /// Every query goes to PostgreSQL, from whichever thread asks.
    package var servesLookups: Bool { false }

    package func makeViewLookupReader() throws -> ViewLookupReader {
        throw StorageError(code: .internalError, message: "the PostgreSQL store makes no lookup readers")
    }
}
