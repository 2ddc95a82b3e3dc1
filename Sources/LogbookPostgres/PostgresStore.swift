internal import Foundation
package import LogbookStorage
package import Logging
internal import NIOCore
internal import NIOPosix
internal import PostgresNIO
internal import Synchronization

/// The event log in PostgreSQL, shared by every logbookd that opens the same database
/// (DESIGN §10).
///
/// Appends keep every promise of the embedded stores across daemons: expected
/// revisions, durable idempotency by event id, atomic multi-stream appends with
/// consecutive positions, and positions visible in commit order (`PostgresWriter` says
/// how). A commit on any daemon notifies the others (`LISTEN logbook_head`); reads by
/// position are the truth, the notification only the wake-up.
package final class PostgresStore: Sendable {
    /// The readers' connections, used in turn; the writer and the listener keep one each.
    private let readers: [PostgresLink]
    private let nextReader = Atomic(0)
    private let heads: HeadWatch
    private let writer: PostgresWriter
    /// The writer's connection, and the listener's.
    private let writerLink: PostgresLink
    private let listenerLink: PostgresLink
    let logger: Logger
    /// This daemon's name in the group leases (`PostgresStore+Groups`), new at each start:
    /// a restarted daemon claims anew rather than trusting what it held before.
    let daemonID = UUID()
    private let tasks: Mutex<[Task<Void, Never>]>
    private let isClosed = Atomic(false)
    /// The id naming each view's table, by view name (`PostgresStore+Views`).
    let viewTables = Mutex([String: Int64]())
    /// Who is told of changes to groups that any daemon made.
    private let groupListeners = Mutex([@Sendable (GroupChange) -> Void]())

    private init(url: PostgresURL, head: UInt64, readConnections: Int, logger: Logger) {
        self.readers = (0..<max(1, readConnections)).map { _ in PostgresLink(url: url, logger: logger) }
        self.heads = HeadWatch(head)
        self.writerLink = PostgresLink(url: url, logger: logger)
        self.listenerLink = PostgresLink(url: url, logger: logger)
        self.writer = PostgresWriter(link: writerLink, heads: heads, logger: logger)
        self.logger = logger
        self.tasks = Mutex([])
    }

    /// Connects, migrates the schema (or refuses a newer one), and starts the writer and
    /// the listener. Fails at once when PostgreSQL cannot be reached, saying where and why.
    /// `readConnections`: how many connections reads use in turn (tests that open many
    /// stores on one cluster keep it small).
    package static func open(
        _ url: PostgresURL, logger: Logger, readConnections: Int = StorageLimits.postgresReadConnections
    ) async throws -> PostgresStore {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: url.connectionConfiguration, id: 0,
                logger: logger
            ).get()
        } catch {
            throw StorageError(
                code: .stopped, message: "cannot connect to PostgreSQL at \(url.redacted): \(PostgresErrors.describe(error))",
                cause: error)
        }
        do {
            try await PostgresSchema.migrate(connection, logger: logger)
            let head = try await Self.storedHead(connection, logger: logger)
            try? await connection.close()
            let store = PostgresStore(url: url, head: head, readConnections: readConnections, logger: logger)
            store.start()
            return store
        } catch {
            try? await connection.close()
            throw PostgresErrors.storageError(error, doing: "opening \(url.redacted)")
        }
    }

    private func start() {
        let writer = self.writer
        let listener = Task { [weak self] in
            guard let self else { return }
            await self.listen()
        }
        let committer = Task { await writer.run() }
        tasks.withLock { $0 = [listener, committer] }
    }

    private static func storedHead(_ connection: PostgresConnection, logger: Logger) async throws -> UInt64 {
        for try await position in try await connection.query(
            "SELECT position FROM logbook_head WHERE id = 1", logger: logger
        ).decode(Int64.self) {
            return UInt64(position)
        }
        throw StorageError(code: .corrupt, message: "logbook_head has no row")
    }

    /// Follows the other daemons' commits until the store closes, reconnecting when
    /// PostgreSQL goes away; after each (re)connect it reads the head, so a commit made
    /// while nobody listened is not missed.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await listenerLink.withConnection { connection in
                    let groups = try await connection.listen(PostgresSchema.groupChannel)
                    let notifications = try await connection.listen(PostgresSchema.headChannel)
                    // After LISTEN: what moved before is read now, what moves after notifies.
                    self.heads.publish(try await Self.storedHead(connection, logger: self.logger))
                    self.tellGroupListeners(.unknown)
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask {
                            for try await notification in groups {
                                self.tellGroupListeners(GroupChange(notification: notification.payload))
                            }
                        }
                        for try await notification in notifications {
                            if let position = UInt64(notification.payload) { self.heads.publish(position) }
                        }
                        tasks.cancelAll()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost PostgreSQL's head notifications; retrying", metadata: ["error": "\(PostgresErrors.describe(error))"])
            }
            try? await Task.sleep(for: StorageLimits.postgresListenRetryDelay)
        }
    }

    // MARK: Appends

    /// Appends to one or more streams atomically, once the transaction that carries it
    /// has committed. A retry of an append that already succeeded returns the original
    /// result and writes nothing.
    package func append(_ writes: [StreamWrite]) async throws -> AppendResult {
        try await withCheckedThrowingContinuation { continuation in
            append(writes) { continuation.resume(with: $0) }
        }
    }

    /// The same, reporting to `completion` once the commit is durable.
    package func append(
        _ writes: [StreamWrite], completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void
    ) {
        do {
            writer.enqueue(.init(append: try AppendValidator.prepare(writes), completion: completion))
        } catch {
            completion(.failure(error))
        }
    }

    /// Checks an append without queueing it (the server's event loops gather appends
    /// and hand them over together with `enqueue`).
    package func check(
        _ writes: [StreamWrite], completion: @escaping @Sendable (Result<AppendResult, any Error>) -> Void
    ) throws(StorageError) -> CheckedAppend {
        CheckedAppend(append: try AppendValidator.prepare(writes), completion: completion)
    }

    /// Queues checked appends, in order; the writer takes them into its next transaction.
    package func enqueue(_ appends: [CheckedAppend]) {
        for append in appends {
            writer.enqueue(.init(append: append.append, completion: append.completion))
        }
    }

    // MARK: Heads

    /// The last position this daemon knows to be committed (its own commits at once,
    /// the other daemons' when their notification arrives).
    package var headPosition: UInt64 { heads.head }

    /// The head now, then after every move.
    package func headPositions() -> AsyncStream<UInt64> { heads.positions() }

    /// Calls `listener` with the head now and after every move; it must not block.
    package func onHeadPosition(_ listener: @escaping @Sendable (UInt64) -> Void) { heads.onHead(listener) }

    /// Calls `listener` after a group changed on any daemon, and with `.unknown` when
    /// notifications may have been missed (the listener connected again). It must not block.
    package func onGroupChange(_ listener: @escaping @Sendable (GroupChange) -> Void) {
        groupListeners.withLock { $0.append(listener) }
    }

    private func tellGroupListeners(_ change: GroupChange) {
        for listener in groupListeners.withLock({ $0 }) { listener(change) }
    }

    /// The last revision of `stream`, nil when it does not exist.
    package func streamRevision(_ stream: String) async throws -> UInt64? {
        let (key, logger) = (StreamName.lookupKey(stream), self.logger)
        do {
            return try await reader().timed { connection in
                for try await revision in try await connection.query(
                    "SELECT revision FROM logbook_streams WHERE lookup_key = \(key)", logger: logger
                ).decode(Int64.self) {
                    return UInt64(revision)
                }
                return nil
            }
        } catch {
            throw PostgresErrors.storageError(error, doing: "reading stream '\(stream)'")
        }
    }

    // MARK: Reads

    /// One batch of at most `request.limit` events, up to the head this daemon knows
    /// (or `asOfPosition`). Reading a stream that does not exist throws `.notFound`.
    package func read(_ request: ReadRequest) async throws -> [RecordedEvent] {
        try request.validate()
        let head = headPosition
        let visible = min(request.asOfPosition ?? head, head)
        let logger = self.logger
        do {
            return try await reader().timed { connection in
                guard let query = try await PostgresRead.query(
                    request, visible: visible, head: head, connection: connection, logger: logger)
                else { return [] }
                var events = [RecordedEvent]()
                events.reserveCapacity(min(request.limit, 512))
                for try await row in try await connection.query(query, logger: logger).decode(PostgresRead.Columns.self) {
                    events.append(try PostgresRead.event(row))
                }
                return events
            }
        } catch {
            throw PostgresErrors.storageError(error, doing: "read")
        }
    }

    /// The last position committed at or before `micros` (0 when none was).
    package func position(atOrBeforeTime micros: Int64) async throws -> UInt64 {
        let logger = self.logger
        do {
            let position = try await reader().timed { connection in
                for try await position in try await connection.query(
                    "SELECT coalesce(max(position), 0) FROM logbook_events WHERE time_us <= \(micros)", logger: logger
                ).decode(Int64.self) {
                    return UInt64(position)
                }
                return 0
            }
            return min(position, headPosition)
        } catch {
            throw PostgresErrors.storageError(error, doing: "time travel")
        }
    }

    /// The next reader's connection, in turn.
    func reader() -> PostgresLink {
        readers[nextReader.wrappingAdd(1, ordering: .relaxed).oldValue % readers.count]
    }

    // MARK: Closing

    /// Stops taking appends, commits those queued, then disconnects. Safe to call twice.
    package func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer.close()
        let tasks = self.tasks.withLock { $0 }
        if tasks.count == 2 { await tasks[1].value }
        // The listener first, so that losing its connection is not taken for an outage.
        if tasks.count == 2 { tasks[0].cancel() }
        await listenerLink.close()
        await writerLink.close()
        for reader in readers { await reader.close() }
        if tasks.count == 2 { await tasks[0].value }
        heads.finish()
    }
}
