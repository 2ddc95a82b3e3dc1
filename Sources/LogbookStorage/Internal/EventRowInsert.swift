internal import Foundation
internal import GRDB
internal import GRDBSQLite

/// The insert of one `events` row, bound through SQLite's C API.
///
/// Every stored event runs it, in both engines. GRDB's `execute(arguments:)` builds an
/// array of twelve boxed values, converts each to a `DatabaseValue` and copies the id
/// into a fresh `Data`; in a profile of the log engine's indexer that was about half of
/// the time spent storing an event, the B-tree work included. Here each value is bound
/// as it is. Errors come back as GRDB's `DatabaseError`, so the writer classifies them
/// as it does every other SQLite failure.
struct EventRowInsert {
    let statement: Statement

    init(_ db: Database) throws {
        statement = try db.makeStatement(sql: Schema.SQL.insertEvent)
    }

    struct Row {
        var position: UInt64
        var streamID: Int64
        var revision: UInt64
        var id: EventID
        var typeID: Int64
        var categoryID: Int64
        var timeMicros: Int64
        var contentType: String
        var data: Data
        var metadata: Data
        var correlationID: String
        var causationID: String
    }

    func execute(_ row: Row) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer { sqlite3_clear_bindings(handle) }
        var code = sqlite3_bind_int64(handle, 1, Int64(bitPattern: row.position))
        code |= sqlite3_bind_int64(handle, 2, row.streamID)
        code |= sqlite3_bind_int64(handle, 3, Int64(bitPattern: row.revision))
        // Big-endian, as `EventID.data` spells it, so blobs sort like the UUIDs.
        var id = (row.id.high.bigEndian, row.id.low.bigEndian)
        code |= withUnsafeBytes(of: &id) { SQLiteBinding.bindBlob(handle, 4, $0) }
        code |= sqlite3_bind_int64(handle, 5, row.typeID)
        code |= sqlite3_bind_int64(handle, 6, row.categoryID)
        code |= sqlite3_bind_int64(handle, 7, row.timeMicros)
        code |= SQLiteBinding.bindText(handle, 8, row.contentType)
        code |= row.data.withUnsafeBytes { SQLiteBinding.bindBlob(handle, 9, $0) }
        code |= row.metadata.withUnsafeBytes { SQLiteBinding.bindBlob(handle, 10, $0) }
        code |= SQLiteBinding.bindText(handle, 11, row.correlationID)
        code |= SQLiteBinding.bindText(handle, 12, row.causationID)
        // The codes are SQLITE_OK (0) unless a bind failed; the first failure's message
        // is the connection's last error either way.
        if code != SQLITE_OK { throw error(sqlite3_errcode(sqlite3_db_handle(handle))) }
        let step = sqlite3_step(handle)
        guard step == SQLITE_DONE else { throw error(step) }
    }

    private func error(_ code: CInt) -> DatabaseError {
        let handle = statement.sqliteStatement
        // sqlite3_reset returns the step's extended code, which `DatabaseError` classifies.
        let extended = sqlite3_reset(handle)
        let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(handle)))
        return DatabaseError(
            resultCode: ResultCode(rawValue: extended != SQLITE_OK ? extended : code), message: message,
            sql: Schema.SQL.insertEvent)
    }
}
