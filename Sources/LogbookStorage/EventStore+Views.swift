internal import GRDB

/// Views (read models) and queries over them and over the system views (DESIGN.md §6).
///
/// Definitions change through the writer like group changes do. Documents change only
/// inside `saveGroupProgress` (the same savepoint that records the acks carrying them), so
/// a view never holds the effect of an event its group has not settled, and never holds
/// it twice.
extension EventStore {
    /// Defines a view written by `definition.group`, creating its table and one index per
    /// path. Defining again exactly what exists succeeds and changes nothing.
    ///
    /// Throws `.notFound` when the group does not exist, `.viewExists` when the name is
    /// taken by a different definition, `.invalidArgument` for a bad name (empty, over
    /// `StorageLimits.viewNameBytesMax`, starting with `$`) or a bad path.
    package func defineView(_ definition: ViewDefinition) async throws {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// Drops a view with its documents. Throws `.notFound` for no such view.
    package func dropView(_ name: String) async throws {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// Every view, by name.
    package func views() throws -> [ViewDefinition] {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// Checks writes an ack of `group` carries, before the ack is accepted: each view
    /// exists (`.notFound`) and belongs to `group` (`.failedPrecondition`), each key is
    /// 1…`StorageLimits.viewKeyBytesMax` bytes and each document or patch is valid JSON
    /// within `StorageLimits.viewDocumentBytesMax` (`.invalidArgument`).
    package func validateViewWrites(_ writes: [ViewWrite], group: String) throws {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// One page of a view, `$streams` or `$event_types`. Throws `.notFound` for no such
    /// view, `.invalidArgument` for a bad path, literal, limit or cursor.
    package func query(_ query: ViewQuery) throws -> ViewPage {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// One page over rows the caller made (the server's `$groups` and `$stats`), with
    /// the same keys, predicates, order, limit and cursor as a view.
    package func query(_ query: ViewQuery, rows: [ViewRow]) throws -> ViewPage {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }

    /// The last position committed at or before `micros` (Unix time), 0 when none was.
    package func position(atOrBeforeTime micros: Int64) throws -> UInt64 {
        throw StorageError(code: .internalError, message: "views are not built yet")
    }
}
