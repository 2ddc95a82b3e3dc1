internal import Foundation
internal import LogbookStorage
internal import Logging
internal import NIOCore
internal import PostgresNIO
internal import Synchronization

/// This daemon's group commit on PostgreSQL: every append waiting when a transaction
/// starts goes into it, so 50 appending clients cost a handful of transactions, not 50.
///
/// One transaction, on the writer's own connection (`PostgresLink`): lock the head row
/// (serialising commits across daemons) and read the heads of the streams and the ids
/// the batch names in one call, decide each append in memory (`PostgresBatch`), then write
/// the rows, the streams' heads and the head and notify in one statement, and commit.
/// Answers go out only after COMMIT returned, so a reply with OK is durable as
/// PostgreSQL's `synchronous_commit` makes it.
final class PostgresWriter: Sendable {
    struct Pending: Sendable {
        var append: PreparedAppend
        var completion: @Sendable (Result<AppendResult, any Error>) -> Void
    }

    private struct Queue {
        var pending: [Pending] = []
        var isClosed = false
    }

    private let queue = Mutex(Queue())
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>
    private let link: PostgresLink
    private let heads: HeadWatch
    private let logger: Logger
    /// `store="postgresql"`: its sync time is the whole append transaction, from BEGIN to
    /// COMMIT's answer, PostgreSQL's WAL flush included.
    private let metrics = CommitMetrics(store: "postgresql")

    init(link: PostgresLink, heads: HeadWatch, logger: Logger) {
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.link = link
        self.heads = heads
        self.logger = logger
    }

    /// Queues an append; refused at once when the queue is full or closed.
    func enqueue(_ pending: Pending) {
        let refusal = queue.withLock { queue -> StorageError? in
            if queue.isClosed { return StorageError(code: .stopped, message: "the store is closing") }
            guard queue.pending.count < StorageLimits.appendQueueDepthMax else {
                return StorageError(code: .overloaded, message: "the append queue is full; try again")
            }
            queue.pending.append(pending)
            return nil
        }
        if let refusal {
            pending.completion(.failure(refusal))
        } else {
            wake.yield()
        }
    }

    /// Commits batches until `close` and the queue is empty.
    func run() async {
        for await _ in wakes {
            while let batch = next() {
                await commit(batch)
            }
            if queue.withLock({ $0.isClosed && $0.pending.isEmpty }) { return }
        }
    }

    /// Stops taking appends; those queued are still committed.
    func close() {
        queue.withLock { $0.isClosed = true }
        wake.yield()
        wake.finish()
    }

    /// The next batch: everything queued, up to `postgresBatchEventsMax` events.
    private func next() -> [Pending]? {
        queue.withLock { queue in
            guard !queue.pending.isEmpty else { return nil }
            var events = 0
            var count = 0
            for pending in queue.pending {
                events += pending.append.eventCount
                guard count == 0 || events <= StorageLimits.postgresBatchEventsMax else { break }
                count += 1
            }
            defer { queue.pending.removeFirst(count) }
            return Array(queue.pending.prefix(count))
        }
    }

    private func commit(_ batch: [Pending]) async {
        let outcomes: [PostgresBatch.Outcome]
        let head: UInt64
        do {
            let (appends, logger) = (batch.map(\.append), self.logger)
            let start = ContinuousClock.now
            (outcomes, head) = try await link.transaction { connection in
                try await Self.run(appends, on: connection, logger: logger)
            }
            metrics.synced(after: start)
        } catch {
            let failure = PostgresErrors.storageError(error, doing: "append")
            logger.error("append transaction failed", metadata: ["error": "\(PostgresErrors.describe(error))"])
            for pending in batch { pending.completion(.failure(failure)) }
            return
        }
        heads.publish(head)
        metrics.committed(events: outcomes.reduce(0) { count, outcome in
            guard case .appended(let result) = outcome else { return count }
            return count + result.streams.reduce(0) { $0 + $1.positions.count }
        })
        for (pending, outcome) in zip(batch, outcomes) {
            switch outcome {
            case .appended(let result), .replayed(let result):
                pending.completion(.success(result))
            case .failed(let error):
                pending.completion(.failure(error))
            }
        }
    }

    /// The transaction's statements, two round trips between BEGIN and COMMIT: one that
    /// locks the head and reads what the batch needs (`logbook_begin_append`), one that
    /// writes everything. Returns each append's outcome and the head after it.
    private static func run(
        _ appends: [PreparedAppend], on connection: PostgresConnection, logger: Logger
    ) async throws -> ([PostgresBatch.Outcome], UInt64) {
        let keys = Array(Set(appends.lazy.flatMap(\.writes).map { StreamName.lookupKey($0.stream) }))
        let ids = appends.flatMap { $0.writes.flatMap { $0.events.map { ByteBuffer(bytes: $0.id.bytes) } } }
        var head: (position: UInt64, time: Int64)?
        var streams = [String: PostgresBatch.Stream]()
        var existing = [EventID: PostgresBatch.Existing]()
        var lifecycles = PostgresLifecycle.Rows()
        let rows = try await connection.query(
            "SELECT * FROM logbook_begin_append(\(keys)::text[], \(ids)::bytea[])", logger: logger)
        for try await (kind, key, stream, revision, position, time, id) in rows.decode(
            (UInt8, String?, String?, Int64?, Int64, Int64?, ByteBuffer?).self)
        {
            switch (kind, key, stream, revision, time, id) {
            case (UInt8(ascii: "h"), _, _, _, let time?, _):
                head = (UInt64(position), time)
            case (UInt8(ascii: "s"), let key?, let name?, let revision?, _, _):
                streams[key] = PostgresBatch.Stream(name: name, revision: UInt64(revision), position: UInt64(position))
            case (UInt8(ascii: "e"), let key?, let stream?, let revision?, let time?, let id?):
                guard let id = EventID(bytes: Array(buffer: id)) else {
                    throw StorageError(code: .corrupt, message: "an event id in logbook_events is not 16 bytes")
                }
                existing[id] = PostgresBatch.Existing(
                    streamKey: key, stream: stream, revision: UInt64(revision), position: UInt64(position), timeMicros: time)
            case (UInt8(ascii: "l"), let key?, let name?, _, _, _):
                lifecycles.lifecycleRow(key: key, name: name, lastRevision: revision, truncateBefore: position, maxAgeMicros: time)
            case (UInt8(ascii: "m"), let key?, _, _, let flags?, _):
                lifecycles.boundsRow(key: key, maxCount: revision, deletedBefore: position, flags: flags)
            default:
                throw StorageError(code: .corrupt, message: "logbook_begin_append returned a row of kind \(kind) it should not")
            }
        }
        guard let head else { throw StorageError(code: .corrupt, message: "logbook_head has no row") }
        var batch = PostgresBatch(
            head: head.position, timeMicros: max(head.time, WallClock.nowMicros()), streams: streams, existing: existing,
            lifecycles: lifecycles.byKey(heads: streams.mapValues(\.revision)))
        let outcomes = appends.map { batch.apply($0) }
        guard !batch.rows.isEmpty else { return (outcomes, head.position) }
        try await insert(batch, connection, logger)
        return (outcomes, batch.head)
    }

    private static func insert(_ batch: PostgresBatch, _ connection: PostgresConnection, _ logger: Logger) async throws {
        let rows = batch.rows
        let positions = rows.map { Int64($0.position) }
        let keys = rows.map(\.streamKey)
        let streams = rows.map(\.stream)
        let revisions = rows.map { Int64($0.revision) }
        let categories = rows.map { StreamName.category(of: $0.stream) }
        let ids = rows.map { ByteBuffer(bytes: $0.event.id.bytes) }
        let types = rows.map(\.event.type)
        let contentTypes = rows.map(\.event.contentType)
        let data = rows.map { ByteBuffer(bytes: $0.event.data) }
        let metadata = rows.map { ByteBuffer(bytes: $0.event.metadata) }
        let correlations = rows.map(\.event.correlationID)
        let causations = rows.map(\.event.causationID)
        let time = batch.timeMicros
        let written = batch.written.compactMap { key in batch.streams[key].map { (key, $0) } }
        let streamKeys = written.map(\.0)
        let names = written.map(\.1.name)
        let streamRevisions = written.map { Int64($0.1.revision) }
        let streamPositions = written.map { Int64($0.1.position) }
        let head = Int64(batch.head)
        // One statement, one round trip: the events, the streams' heads, the head row and
        // the notification (sent by PostgreSQL at COMMIT).
        try await connection.query(
            """
            WITH events AS (
                INSERT INTO logbook_events (position, stream_key, stream, revision, category, event_id, type, time_us,
                    content_type, data, metadata, correlation_id, causation_id)
                SELECT p, k, s, r, c, i, t, \(time), ct, d, m, co, ca
                FROM unnest(\(positions)::bigint[], \(keys)::text[], \(streams)::text[], \(revisions)::bigint[],
                    \(categories)::text[], \(ids)::bytea[], \(types)::text[], \(contentTypes)::text[], \(data)::bytea[],
                    \(metadata)::bytea[], \(correlations)::text[], \(causations)::text[])
                    AS u(p, k, s, r, c, i, t, ct, d, m, co, ca)),
            streams AS (
                INSERT INTO logbook_streams (lookup_key, name, revision, position)
                SELECT * FROM unnest(\(streamKeys)::text[], \(names)::text[], \(streamRevisions)::bigint[],
                    \(streamPositions)::bigint[])
                ON CONFLICT (lookup_key) DO UPDATE SET revision = excluded.revision, position = excluded.position),
            head AS (
                UPDATE logbook_head SET position = \(head), time_us = \(time) WHERE id = 1)
            SELECT pg_notify(\(PostgresSchema.headChannel), \(String(head)))
            """,
            logger: logger)
    }
}
