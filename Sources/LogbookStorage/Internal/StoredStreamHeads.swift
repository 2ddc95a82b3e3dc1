internal import GRDB

/// Stream heads as SQLite holds them, for the log engine's streams that memory does not
/// keep (`StreamCache`): found by lookup key, so under any canonically equivalent
/// spelling, and answered in the spelling first written.
enum StoredStreamHeads {
    struct Found {
        /// The name as first written.
        var name: String
        var revision: UInt64
    }

    /// The stream's name and last revision; nil when SQLite has no event of it. The log
    /// writer asks only for streams whose every event SQLite holds (`LogAppender`).
    static func head(_ db: Database, _ stream: String) throws -> Found? {
        let statement = try db.cachedStatement(sql: Schema.SQL.findStreamHead)
        return try found(Row.fetchOne(statement, arguments: [StreamName.lookupKey(stream)]))
    }

    /// The same as of a read's snapshot: events past `storedUpTo` (committed after it)
    /// do not count (`PublishedState` says why the rest is all there).
    static func head(_ db: Database, _ stream: String, asOf storedUpTo: UInt64) throws -> Found? {
        let statement = try db.cachedStatement(sql: Schema.SQL.findStreamHeadAsOf)
        return try found(Row.fetchOne(statement, arguments: [StreamName.lookupKey(stream), Int64(clamping: storedUpTo)]))
    }

    private static func found(_ row: Row?) throws -> Found? {
        guard let row, let revision: Int64 = try row.decode(atIndex: 1) else { return nil }
        let name: String = try row.decode(atIndex: 0)
        return Found(name: name, revision: try WriterState.checkedUnsigned(revision, what: "revision of stream '\(name)'"))
    }
}
