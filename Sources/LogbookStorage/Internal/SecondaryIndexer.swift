internal import GRDB
internal import Logging

/// Fills the read indexes (by type, category, correlation id) behind the commits.
///
/// Each call indexes one range of positions in a transaction of its own, and moves
/// `index_state.indexed_up_to` in that same transaction, so after a crash the tables
/// and the mark agree and the next open resumes from the mark: the index rows are
/// derived from `events` and never needed for an append's own checks, so losing the
/// newest batch costs a redo, never data. Runs on the writer connection only.
struct SecondaryIndexer {
    private let db: Database
    private let begin: Statement
    private let commit: Statement
    private let inserts: [Statement]
    private let setIndexedUpTo: Statement

    init(_ db: Database) throws {
        self.db = db
        begin = try db.makeStatement(sql: Schema.SQL.begin)
        commit = try db.makeStatement(sql: Schema.SQL.commit)
        inserts = [
            try db.makeStatement(sql: Schema.SQL.indexByType),
            try db.makeStatement(sql: Schema.SQL.indexByCategory),
            try db.makeStatement(sql: Schema.SQL.indexByCorrelation),
        ]
        setIndexedUpTo = try db.makeStatement(sql: Schema.SQL.setIndexedUpTo)
    }

    /// The position the tables reach, as stored.
    static func loadIndexedUpTo(_ db: Database) throws -> UInt64 {
        let value = try Int64.fetchOne(db, sql: Schema.SQL.loadIndexedUpTo)
        guard let value, let position = UInt64(exactly: value) else {
            throw StorageError.corrupt("index_state holds \(value.map { "\($0)" } ?? "no row"), not a position")
        }
        return position
    }

    /// Indexes positions `indexedUpTo + 1 ... upTo` and commits. On error the caller
    /// must roll back (the transaction may still be open) and use a fresh indexer,
    /// since a failed statement keeps its error.
    func index(after indexedUpTo: UInt64, upTo: UInt64) throws {
        let range: StatementArguments = [Int64(clamping: indexedUpTo), Int64(clamping: upTo)]
        try begin.execute()
        for insert in inserts {
            try insert.execute(arguments: range)
        }
        try setIndexedUpTo.execute(arguments: [Int64(clamping: upTo)])
        try commit.execute()
    }

    /// Indexes everything up to `headPosition` at open, in batches so one transaction
    /// never has to hold a whole log's index rows; returns how far it got.
    ///
    /// A full disk (or a lock) stops it early without failing the open: reads stay
    /// correct by scanning the un-indexed tail, and a full disk must not keep the log
    /// from serving reads (DESIGN.md §4). The writer retries after its next commit.
    static func catchUp(
        _ db: Database, from indexedUpTo: UInt64, to headPosition: UInt64, logger: Logger
    ) throws -> UInt64 {
        let indexer = try SecondaryIndexer(db)
        var indexed = indexedUpTo
        while indexed < headPosition {
            let upTo = min(headPosition, indexed + UInt64(StorageLimits.indexBatchEvents))
            do {
                try indexer.index(after: indexed, upTo: upTo)
            } catch {
                if db.isInsideTransaction { try db.rollback() }
                if let error = error as? DatabaseError, [.diskFull, .busy].contains(SQLiteFailure(error)) {
                    logger.info("read index catch-up postponed", metadata: ["error": "\(error)", "indexed_up_to": "\(indexed)"])
                    return indexed
                }
                throw error
            }
            indexed = upTo
        }
        return indexed
    }
}
