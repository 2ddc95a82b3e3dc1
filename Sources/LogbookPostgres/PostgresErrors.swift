internal import LogbookStorage
internal import PostgresNIO

/// PostgreSQL's errors as the store's.
enum PostgresErrors {
    /// `doing`: what failed, for the message ("append", "read").
    static func storageError(_ error: any Error, doing: String) -> StorageError {
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.beginError ?? error.commitError
        {
            return storageError(inner, doing: doing)
        }
        if let error = error as? StorageError { return error }
        guard let error = error as? PSQLError else {
            return StorageError(code: .internalError, message: "\(doing) failed: \(error)", cause: error)
        }
        let state = error.serverInfo?[.sqlState]
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        switch state {
        case "LB001":  // logbook_save_group: a lease moved
            return StorageError(code: .failedPrecondition, message: message, cause: error)
        case "LB002":  // logbook_save_group: no such group
            return StorageError(code: .notFound, message: message, cause: error)
        case "53100":  // disk_full
            return StorageError(code: .diskFull, message: "PostgreSQL's disk is full: \(message)", cause: error)
        case .some(let state) where state.hasPrefix("08") || state.hasPrefix("57"):
            // Connection exceptions, and the server shutting down or restarting.
            return StorageError(
                code: .stopped,
                message: "PostgreSQL is unavailable (\(message)); an append in flight may or may not have committed: retry it with the same event ids",
                cause: error)
        case .some(let state):
            return StorageError(code: .internalError, message: "\(doing) failed in PostgreSQL (\(state)): \(message)", cause: error)
        case nil:
            return StorageError(
                code: .stopped,
                message: "PostgreSQL is unreachable (\(error.code)); an append in flight may or may not have committed: retry it with the same event ids",
                cause: error)
        }
    }

    /// What a person needs to read of a connection error: PostgreSQL's own message when it
    /// sent one, else the client's code and the cause underneath.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.beginError ?? error.commitError
        {
            return describe(inner)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }
}
