internal import GRDB
internal import Synchronization

/// The streams that have lifecycle rules (`StreamLifecycle`: deleted, tombstoned or
/// bounded), as readers see them. Most stores have none or a few, so reads test an event
/// against them only when there are any, and the common read costs nothing more.
///
/// The store's one writer (SQLite engine: `AppendWriter`; log engine: `LogAppender`) owns
/// the authoritative copy and publishes a new one here after each commit that changed
/// it; readers take a snapshot (`current`) or ask per row (`isVisible`, the SQL function).
final class StreamRules: Sendable {
    private let rules: Mutex<[String: StreamLifecycle]>

    init(_ rules: [String: StreamLifecycle] = [:]) {
        self.rules = Mutex(rules)
    }

    var current: [String: StreamLifecycle] {
        rules.withLock { $0 }
    }

    func lifecycle(of stream: String) -> StreamLifecycle? {
        rules.withLock { $0[stream] }
    }

    func publish(_ rules: [String: StreamLifecycle]) {
        self.rules.withLock { $0 = rules }
    }

    /// The SQL function reads use to drop hidden events inside their LIMIT (so a short
    /// batch still means nothing more matches): `logbook_visible(stream name, revision,
    /// time_us, now_us)`, 1 or 0.
    static let sqlFunctionName = "logbook_visible"

    func sqlFunction() -> DatabaseFunction {
        DatabaseFunction(Self.sqlFunctionName, argumentCount: 4, pure: false) { [self] values in
            guard let name = String.fromDatabaseValue(values[0]),
                let revision = Int64.fromDatabaseValue(values[1]),
                let time = Int64.fromDatabaseValue(values[2]),
                let now = Int64.fromDatabaseValue(values[3])
            else { return true }
            guard let lifecycle = lifecycle(of: name) else { return true }
            return lifecycle.isVisible(revision: UInt64(clamping: revision), timeMicros: time, nowMicros: now)
        }
    }
}

/// One read's view of the rules: taken once, with the time max_age is measured from.
struct ReadVisibility {
    let rules: [String: StreamLifecycle]
    let nowMicros: Int64

    /// Nil when no stream has rules: the read needs no test at all (nor the clock).
    init?(_ rules: [String: StreamLifecycle], nowMicros: () -> Int64) {
        guard !rules.isEmpty else { return nil }
        self.rules = rules
        self.nowMicros = nowMicros()
    }

    func admits(stream: String, revision: UInt64, timeMicros: Int64) -> Bool {
        guard let lifecycle = rules[stream] else { return true }
        return lifecycle.isVisible(revision: revision, timeMicros: timeMicros, nowMicros: nowMicros)
    }
}

/// The `stream_lifecycle` rows: one per stream with rules, keyed by lookup key so that
/// any canonically equivalent spelling finds it.
enum StreamLifecycleRows {
    static func loadAll(_ db: Database) throws -> [String: StreamLifecycle] {
        var rules = [String: StreamLifecycle]()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT name, last_revision, truncate_before, max_count, max_age_us, deleted, tombstoned, deleted_before
            FROM stream_lifecycle
            """)
        while let row = try rows.next() {
            let name: String = try row.decode(atIndex: 0)
            var lifecycle = StreamLifecycle(lastRevision: try unsigned(row, 1, name))
            lifecycle.truncateBefore = try unsigned(row, 2, name) ?? 0
            lifecycle.maxCount = try unsigned(row, 3, name)
            lifecycle.maxAgeMicros = try row.decode(atIndex: 4)
            lifecycle.isDeleted = try row.decode(atIndex: 5)
            lifecycle.isTombstoned = try row.decode(atIndex: 6)
            lifecycle.deletedBefore = try unsigned(row, 7, name) ?? 0
            rules[name] = lifecycle
        }
        return rules
    }

    /// Writes the stream's row, or removes it when nothing is left to keep.
    static func save(_ db: Database, _ name: String, _ lifecycle: StreamLifecycle) throws {
        guard lifecycle.hasRules else {
            try db.execute(sql: "DELETE FROM stream_lifecycle WHERE lookup_key = ?", arguments: [StreamName.lookupKey(name)])
            return
        }
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO stream_lifecycle
                    (lookup_key, name, last_revision, truncate_before, max_count, max_age_us, deleted, tombstoned,
                     deleted_before)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                StreamName.lookupKey(name), name, lifecycle.lastRevision.map { Int64(clamping: $0) },
                Int64(clamping: lifecycle.truncateBefore), lifecycle.maxCount.map { Int64(clamping: $0) },
                lifecycle.maxAgeMicros, lifecycle.isDeleted, lifecycle.isTombstoned,
                Int64(clamping: lifecycle.deletedBefore),
            ])
    }

    /// A deleted stream's events (all below its truncate_before) leave every group's parked
    /// list: nobody can replay them. (Log engine: parked events were delivered, so SQLite
    /// holds them long since.)
    static func dropParked(_ db: Database, _ name: String, below lifecycle: StreamLifecycle) throws {
        let bound = Int64(clamping: lifecycle.truncateBefore)
        try db.execute(
            sql: """
                DELETE FROM group_parked WHERE position IN (
                    SELECT e.position FROM events AS e INDEXED BY events_stream_revision
                    WHERE e.stream_id = (SELECT id FROM streams WHERE lookup_key = ?) AND e.revision < ?)
                """,
            arguments: [StreamName.lookupKey(name), bound])
    }

    private static func unsigned(_ row: Row, _ index: Int, _ name: String) throws -> UInt64? {
        guard let value: Int64 = try row.decode(atIndex: index) else { return nil }
        return try WriterState.checkedUnsigned(value, what: "lifecycle of stream '\(name)'")
    }
}
