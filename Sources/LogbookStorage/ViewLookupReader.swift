internal import Foundation
internal import GRDB
internal import GRDBSQLite

/// A read-only connection to the store's database that one thread owns. The server gives
/// one to each event loop, which answers lookups of views on it (DESIGN.md §6).
///
/// A lookup through the store's pool of readers hopped onto GRDB's dispatch queue, checked
/// a reader out of the pool, and ran two statements (the view's row, then its documents),
/// each in a read transaction of its own. In a profile of lookups by key that was about a
/// fifth of the daemon's CPU per lookup, with six `fcntl` calls for SQLite's locks. Here
/// both statements run in one read transaction, on statements kept prepared, through
/// SQLite's C API.
///
/// Not thread-safe: SQLite's multi-thread mode lets one thread at a time use a connection.
package final class ViewLookupReader {
    private let store: EventStore
    private var connection: OpaquePointer?
    /// BEGIN, COMMIT, the view's row, and the classification of literals.
    private let begin, commit, findView, classify: OpaquePointer
    /// Queries' statements, by SQL; only shapes `ViewQueryPlan.keepsStatement` allows.
    private var kept = [String: OpaquePointer]()

    init(path: String, store: EventStore) throws(StorageError) {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            throw StorageError(code: .internalError, message: "cannot open \(path) to look views up: \(message)")
        }
        // WAL readers meet SQLITE_BUSY only in rare moments: while another process
        // recovers the log or the last connection closes.
        sqlite3_busy_timeout(connection, CInt(StorageLimits.lookupBusyTimeoutMilliseconds))
        var prepared = [OpaquePointer]()
        do {
            for sql in ["BEGIN", "COMMIT", Schema.SQL.findView, ViewLiteral.classificationSQL] {
                prepared.append(try Self.prepare(sql, on: connection, persistent: true))
            }
        } catch {
            prepared.forEach { sqlite3_finalize($0) }
            sqlite3_close_v2(connection)
            throw error
        }
        self.store = store
        self.connection = connection
        (begin, commit, findView, classify) = (prepared[0], prepared[1], prepared[2], prepared[3])
    }

    deinit {
        close()
    }

    /// Closes the connection; later queries throw `.stopped`. Safe to call more than once.
    package func close() {
        guard let connection else { return }
        for statement in [begin, commit, findView, classify] + kept.values {
            sqlite3_finalize(statement)
        }
        kept.removeAll()
        sqlite3_close_v2(connection)
        self.connection = nil
    }

    /// One page of a user view, exactly as `EventStore.query` gives it; system views
    /// (`$…`) are not here (`.notFound`).
    package func query(_ query: ViewQuery) throws -> ViewPage {
        try store.checkOpen()
        guard let connection else { throw StorageError.stopped("the view lookup reader is closed") }
        let plan = try ViewQueryPlan(query)
        try run(begin, on: connection)
        defer { end(on: connection) }
        // The view's row and its documents are read in this one snapshot, so the table
        // the row names exists.
        guard !query.view.hasPrefix("$"), let view = try find(query.view, on: connection) else {
            throw AppendWriter.viewNotFound(query.view)
        }
        guard query.asOfPosition == nil else { throw EventStore.noHistory(query.view) }
        let source = ViewSource(table: view.table, indexedPaths: Set(view.definition.indexedPaths))
        let (sql, arguments) = try plan.sql(source) { try self.classify($0, on: connection) }
        let keeps = plan.keepsStatement(on: source)
        let statement = try keeps ? self.statement(sql, on: connection) : Self.prepare(sql, on: connection, persistent: false)
        defer { if keeps { sqlite3_reset(statement) } else { sqlite3_finalize(statement) } }
        for (index, value) in arguments.enumerated() {
            guard SQLiteBinding.bind(value, at: CInt(index + 1), to: statement) == SQLITE_OK else {
                throw Self.failure(on: connection, sql: sql)
            }
        }
        return try plan.page {
            switch sqlite3_step(statement) {
            case SQLITE_ROW:
                return (SQLiteBinding.text(statement, 0), SQLiteBinding.text(statement, 1), DatabaseValue(sqliteStatement: statement, index: 2))
            case SQLITE_DONE:
                return nil
            default:
                throw Self.failure(on: connection, sql: sql)
            }
        }
    }

    // MARK: Statements

    private func find(_ name: String, on connection: OpaquePointer) throws -> StoredView? {
        defer { sqlite3_reset(findView) }
        guard SQLiteBinding.bind(name.databaseValue, at: 1, to: findView) == SQLITE_OK else {
            throw Self.failure(on: connection, sql: Schema.SQL.findView)
        }
        switch sqlite3_step(findView) {
        case SQLITE_ROW:
            return try StoredView(
                id: sqlite3_column_int64(findView, 0), name: SQLiteBinding.text(findView, 1), group: SQLiteBinding.text(findView, 2),
                indexedPaths: SQLiteBinding.text(findView, 3))
        case SQLITE_DONE:
            return nil
        default:
            throw Self.failure(on: connection, sql: Schema.SQL.findView)
        }
    }

    private func classify(_ json: String, on connection: OpaquePointer) throws -> ViewLiteral? {
        defer { sqlite3_reset(classify) }
        guard SQLiteBinding.bind(json.databaseValue, at: 1, to: classify) == SQLITE_OK, sqlite3_step(classify) == SQLITE_ROW else {
            throw Self.failure(on: connection, sql: ViewLiteral.classificationSQL)
        }
        let type = sqlite3_column_type(classify, 1) == SQLITE_NULL ? nil : SQLiteBinding.text(classify, 1)
        return ViewLiteral(
            valid: sqlite3_column_int64(classify, 0) != 0, type: type,
            value: DatabaseValue(sqliteStatement: classify, index: 2))
    }

    /// The kept statement for `sql`, prepared now if it is new. The cache is bounded: when
    /// full it is emptied, as a client that cycles through more shapes gains nothing from it.
    private func statement(_ sql: String, on connection: OpaquePointer) throws -> OpaquePointer {
        if let statement = kept[sql] { return statement }
        if kept.count >= StorageLimits.lookupStatementsKeptMax {
            kept.values.forEach { sqlite3_finalize($0) }
            kept.removeAll()
        }
        let statement = try Self.prepare(sql, on: connection, persistent: true)
        kept[sql] = statement
        return statement
    }

    private static func prepare(_ sql: String, on connection: OpaquePointer, persistent: Bool) throws(StorageError) -> OpaquePointer {
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        guard sqlite3_prepare_v3(connection, sql, -1, flags, &statement, nil) == SQLITE_OK, let statement else {
            let error = failure(on: connection, sql: sql)
            sqlite3_finalize(statement)
            throw error
        }
        return statement
    }

    /// Runs BEGIN or COMMIT.
    private func run(_ statement: OpaquePointer, on connection: OpaquePointer) throws {
        defer { sqlite3_reset(statement) }
        guard sqlite3_step(statement) == SQLITE_DONE else {
            throw Self.failure(on: connection, sql: String(cString: sqlite3_sql(statement)))
        }
    }

    /// Ends the read transaction, whatever happened in it: a read has nothing to keep.
    private func end(on connection: OpaquePointer) {
        guard sqlite3_get_autocommit(connection) == 0 else { return }
        if (try? run(commit, on: connection)) == nil {
            sqlite3_exec(connection, "ROLLBACK", nil, nil, nil)
        }
    }

    /// The connection's last error, classified as the store's reads classify theirs.
    private static func failure(on connection: OpaquePointer, sql: String) -> StorageError {
        let error = DatabaseError(
            resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
            message: String(cString: sqlite3_errmsg(connection)), sql: sql)
        return EventStore.readError(error)
    }
}

extension EventStore {
    /// A new lookup reader on this store's database, for one thread to use.
    package func makeViewLookupReader() throws(StorageError) -> ViewLookupReader {
        try checkOpen()
        return try ViewLookupReader(path: databasePath, store: self)
    }
}
