internal import LogbookStorage
internal import Logging
internal import NIOCore
internal import PostgresNIO

/// Stream lifecycle on PostgreSQL (issue 16): the rows of `logbook_stream_lifecycle` as
/// `StreamLifecycle`s, and the SQL that hides the events they say are gone. Every daemon
/// reads the table in the statements it runs, so a delete made on one is seen by all at
/// once; nothing is cached.
enum PostgresLifecycle {
    /// What `logbook_begin_append` returned about the batch's streams with rules, in two
    /// row kinds that are put together here.
    struct Rows {
        private var lifecycles: [String: StreamLifecycle] = [:]
        private var names: [String: String] = [:]

        mutating func lifecycleRow(key: String, name: String, lastRevision: Int64?, truncateBefore: Int64, maxAgeMicros: Int64?) {
            lifecycles[key, default: StreamLifecycle()].lastRevision = lastRevision.map { UInt64(clamping: $0) }
            lifecycles[key]?.truncateBefore = UInt64(clamping: truncateBefore)
            lifecycles[key]?.maxAgeMicros = maxAgeMicros
            names[key] = name
        }

        mutating func boundsRow(key: String, maxCount: Int64?, deletedBefore: Int64, flags: Int64) {
            lifecycles[key, default: StreamLifecycle()].maxCount = maxCount.map { UInt64(clamping: $0) }
            lifecycles[key]?.deletedBefore = UInt64(clamping: deletedBefore)
            lifecycles[key]?.isDeleted = flags & 1 != 0
            lifecycles[key]?.isTombstoned = flags & 2 != 0
        }

        /// By lookup key, each brought up to its stream's head (`heads`, by lookup key).
        func byKey(heads: [String: UInt64]) -> [String: StreamLifecycle] {
            guard !lifecycles.isEmpty else { return [:] }
            var result = lifecycles
            for key in result.keys { result[key]?.catchUp(head: heads[key]) }
            return result
        }
    }

    /// One stream's name (as first written), last revision and lifecycle; nil lifecycle
    /// when it has no rules.
    struct Found {
        var name: String?
        var head: UInt64?
        var lifecycle: StreamLifecycle?
    }

    static func find(_ key: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Found {
        let rows = try await connection.query(
            """
            SELECT s.name, s.revision, l.name, l.last_revision, l.truncate_before, l.deleted_before, l.max_count,
                l.max_age_us, l.deleted, l.tombstoned
            FROM (SELECT \(key)::text AS k) AS q
            LEFT JOIN logbook_streams s ON s.lookup_key = q.k
            LEFT JOIN logbook_stream_lifecycle l ON l.lookup_key = q.k
            """, logger: logger)
        for try await row in rows.decode(
            (String?, Int64?, String?, Int64?, Int64?, Int64?, Int64?, Int64?, Bool?, Bool?).self)
        {
            let head = row.1.map { UInt64(clamping: $0) }
            var found = Found(name: row.0 ?? row.2, head: head)
            if row.2 != nil {
                var lifecycle = StreamLifecycle(lastRevision: row.3.map { UInt64(clamping: $0) })
                lifecycle.truncateBefore = UInt64(clamping: row.4 ?? 0)
                lifecycle.deletedBefore = UInt64(clamping: row.5 ?? 0)
                lifecycle.maxCount = row.6.map { UInt64(clamping: $0) }
                lifecycle.maxAgeMicros = row.7
                lifecycle.isDeleted = row.8 ?? false
                lifecycle.isTombstoned = row.9 ?? false
                lifecycle.catchUp(head: head)
                found.lifecycle = lifecycle
            }
            return found
        }
        return Found()
    }

    /// Writes the stream's row, or removes it when nothing is left to keep.
    static func save(
        _ key: String, _ name: String, _ lifecycle: StreamLifecycle, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard lifecycle.hasRules else {
            try await connection.query("DELETE FROM logbook_stream_lifecycle WHERE lookup_key = \(key)", logger: logger)
            return
        }
        let last = lifecycle.lastRevision.map { Int64(clamping: $0) }
        let (truncate, deleted) = (Int64(clamping: lifecycle.truncateBefore), Int64(clamping: lifecycle.deletedBefore))
        let maxCount = lifecycle.maxCount.map { Int64(clamping: $0) }
        try await connection.query(
            """
            INSERT INTO logbook_stream_lifecycle (lookup_key, name, last_revision, truncate_before, deleted_before,
                max_count, max_age_us, deleted, tombstoned)
            VALUES (\(key), \(name), \(last), \(truncate), \(deleted), \(maxCount), \(lifecycle.maxAgeMicros),
                \(lifecycle.isDeleted), \(lifecycle.isTombstoned))
            ON CONFLICT (lookup_key) DO UPDATE SET name = excluded.name, last_revision = excluded.last_revision,
                truncate_before = excluded.truncate_before, deleted_before = excluded.deleted_before,
                max_count = excluded.max_count, max_age_us = excluded.max_age_us, deleted = excluded.deleted,
                tombstoned = excluded.tombstoned
            """, logger: logger)
        if lifecycle.readsAsNotFound {
            // A deleted stream's events (all below truncate_before) leave every group's parked list.
            try await connection.query(
                """
                DELETE FROM logbook_group_parked WHERE position IN (
                    SELECT position FROM logbook_events WHERE stream_key = \(key) AND revision < \(truncate))
                """, logger: logger)
        }
    }

    /// The condition that keeps, of `logbook_events` rows (unqualified columns), those no
    /// lifecycle rule hides; `now` is the bind of the read's time in microseconds. An
    /// index probe per row into a table that is empty or small.
    static func visibleCondition(now: String) -> String {
        """
        NOT EXISTS (SELECT 1 FROM logbook_stream_lifecycle l WHERE l.lookup_key = logbook_events.stream_key AND (
            logbook_events.revision < l.truncate_before
            OR logbook_events.time_us < \(now) - l.max_age_us
            OR logbook_events.revision + l.max_count <= (SELECT s.revision FROM logbook_streams s WHERE s.lookup_key = l.lookup_key)))
        """
    }
}
