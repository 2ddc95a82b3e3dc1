internal import GRDB

/// Holds SQLite's write lock on a log-engine store's database from a connection of its
/// own, so the store's indexer cannot store the log's tail (its `BEGIN IMMEDIATE` gets
/// `SQLITE_BUSY`, and it tries again later) while the log writer goes on committing.
///
/// Reads then take every event committed meanwhile from the in-memory tail, and a store
/// closed during the stall leaves those events to be replayed from the log at the next
/// open: the two paths the log engine adds to the SQLite engine's, made deterministic
/// instead of left to how far the indexer happens to lag.
final class IndexerStall {
    private let connection: DatabaseQueue
    private var isReleased = false

    init(databasePath: String) throws {
        var configuration = Configuration()
        // The transaction stays open across calls: that is the point.
        configuration.allowsUnsafeTransactions = true
        // The indexer may be inside a transaction of its own right now.
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: databasePath, configuration: configuration)
        try connection.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE TRANSACTION") }
    }

    /// The last position SQLite's `events` holds (the indexer cannot move it while the
    /// lock is held).
    func storedHeadPosition() throws -> UInt64 {
        try connection.writeWithoutTransaction { db in
            UInt64(try Int64.fetchOne(db, sql: "SELECT coalesce(max(position), 0) FROM events") ?? 0)
        }
    }

    /// Lets the indexer go on; the stall cannot be used afterwards. Safe to call again.
    func release() throws {
        guard !isReleased else { return }
        isReleased = true
        try connection.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK TRANSACTION") }
        try connection.close()
    }
}
