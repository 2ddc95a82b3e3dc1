internal import GRDB

/// How the writer must react to an SQLite error.
///
/// SQLite may roll a whole transaction back on its own after FULL, IOERR, BUSY or
/// NOMEM, so those end the batch; only a constraint violation is safely confined to
/// one append's savepoint.
enum SQLiteFailure {
    /// A unique index refused a row: an event id in use (or a bug).
    case constraint
    /// SQLITE_FULL: the disk or the page limit. The batch fails; the writer goes on.
    case diskFull
    /// Another connection holds a lock (another process opened the file). The batch
    /// fails; the writer goes on.
    case busy
    /// I/O error, damage, out of memory: nothing written can be trusted to be durable,
    /// so the writer stops for good.
    case fatal
    /// Anything else, confined to the append that met it.
    case other

    init(_ error: DatabaseError) {
        switch error.resultCode {
        case .SQLITE_CONSTRAINT:
            self = .constraint
        case .SQLITE_FULL:
            self = .diskFull
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self = .busy
        case .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_NOMEM, .SQLITE_CANTOPEN,
             .SQLITE_PROTOCOL, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            self = .fatal
        default:
            self = .other
        }
    }

    /// Whether the error ends the whole batch.
    var endsBatch: Bool {
        switch self {
        case .diskFull, .busy, .fatal: true
        case .constraint, .other: false
        }
    }
}
