internal import Foundation
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
        _ = try await submit(.defineView(definition))
    }

    /// Drops a view with its documents. Throws `.notFound` for no such view.
    package func dropView(_ name: String) async throws {
        _ = try await submit(.dropView(name: name))
    }

    /// Every view, by name.
    package func views() throws -> [ViewDefinition] {
        try onReader { db in try StoredView.all(db).map(\.definition) }
    }

    /// Checks writes an ack of `group` carries, before the ack is accepted: each view
    /// exists (`.notFound`) and belongs to `group` (`.failedPrecondition`), each key is
    /// 1…`StorageLimits.viewKeyBytesMax` bytes and each document or patch is valid JSON
    /// within `StorageLimits.viewDocumentBytesMax` (`.invalidArgument`). An ack of several
    /// deliveries (a client batching them) may carry `viewWritesPerAckMax` writes for each.
    package func validateViewWrites(_ writes: [ViewWrite], group: String, deliveries: Int = 1) throws {
        try ViewValidator.validateShape(writes, countMax: StorageLimits.viewWritesPerAckMax * max(1, deliveries))
        guard !writes.isEmpty else { return }
        try onReader { db in
            let views = Dictionary(try StoredView.all(db).map { ($0.definition.name, $0) }) { first, _ in first }
            for write in writes {
                try Self.check(write, view: views[write.view], group: group, db)
            }
        }
    }

    /// One page of a view, `$streams` or `$event_types`. Throws `.notFound` for no such
    /// view, `.invalidArgument` for a bad path, literal, limit or cursor.
    package func query(_ query: ViewQuery) throws -> ViewPage {
        let plan = try ViewQueryPlan(query)
        let snapshot = try snapshot(for: query)
        // A user view is read in one statement (its row in `views` first only names the
        // table), so it needs no transaction around it; a system view's SQL may read more.
        let isolated = query.view.hasPrefix("$")
        do {
            return try onReader(isolated: isolated) { db in
                try plan.run(try Self.source(of: query, head: snapshot.headPosition, indexedUpTo: snapshot.indexedUpTo, db), db)
            }
        } catch let error as StorageError where !isolated && Self.isDroppedTable(error) {
            // Dropped between naming its table and reading it: as if dropped just before.
            throw AppendWriter.viewNotFound(query.view)
        }
    }

    private static func isDroppedTable(_ error: StorageError) -> Bool {
        guard let cause = error.cause as? DatabaseError, cause.resultCode == .SQLITE_ERROR else { return false }
        return cause.message?.hasPrefix("no such table") ?? false
    }

    /// One page over rows the caller made (the server's `$groups` and `$stats`), with
    /// the same keys, predicates, order, limit and cursor as a view.
    package func query(_ query: ViewQuery, rows: [ViewRow]) throws -> ViewPage {
        let plan = try ViewQueryPlan(query)
        let pairs = try JSONEncoder().encode(rows.map { [$0.key, $0.json] })
        return try onReader { db in try plan.run(SystemViews.rows(String(decoding: pairs, as: UTF8.self)), db) }
    }

    /// The last position committed at or before `micros` (Unix time), 0 when none was.
    ///
    /// A binary search over positions by primary key: the writer never lets commit
    /// times go backwards, so times are non-decreasing in position.
    package func position(atOrBeforeTime micros: Int64) throws -> UInt64 {
        let head = headPosition
        try waitUntilStored(head)
        return try onReader { db in
            let statement = try db.cachedStatement(sql: "SELECT time_us FROM events WHERE position = ?")
            var (low, high) = (UInt64(0), head)  // position `low` is at or before (0: none), above `high` is after
            while low < high {
                let middle = low + (high - low + 1) / 2
                guard let time = try Int64.fetchOne(statement, arguments: [Int64(clamping: middle)]) else {
                    throw StorageError.corrupt("the log has no event at position \(middle), below its head \(head)")
                }
                if time <= micros { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }

    /// The details of SQLite's plan for a query: tests check that predicates on
    /// indexed paths use their index.
    func queryPlan(_ query: ViewQuery) throws -> [String] {
        let plan = try ViewQueryPlan(query)
        let snapshot = try snapshot(for: query)
        return try onReader { db in
            let source = try Self.source(of: query, head: snapshot.headPosition, indexedUpTo: snapshot.indexedUpTo, db)
            let (sql, arguments) = try plan.sql(source) { try ViewLiteral.classify($0, db) }
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(arguments))
                .map { $0["detail"] }
        }
    }

    /// The published state a query runs against; a system view, computed in SQL from
    /// `events`, first waits for the log engine's indexer to store what it must see.
    private func snapshot(for query: ViewQuery) throws -> ReadSnapshot {
        let snapshot = published.snapshot(stream: nil)
        if query.view == SystemViews.streams || query.view == SystemViews.eventTypes {
            try waitUntilStored(min(query.asOfPosition ?? snapshot.headPosition, snapshot.headPosition))
        }
        return snapshot
    }

    private static func source(of query: ViewQuery, head: UInt64, indexedUpTo: UInt64, _ db: Database) throws -> ViewSource {
        let bound = min(query.asOfPosition ?? head, head)
        switch query.view {
        case SystemViews.streams:
            return SystemViews.streams(bound: bound)
        case SystemViews.eventTypes:
            return SystemViews.eventTypes(bound: bound, indexedUpTo: indexedUpTo)
        default:
            guard !query.view.hasPrefix("$"), let view = try StoredView.find(query.view, db) else {
                throw AppendWriter.viewNotFound(query.view)
            }
            guard query.asOfPosition == nil else { throw noHistory(query.view) }
            return ViewSource(table: view.table, indexedPaths: Set(view.definition.indexedPaths))
        }
    }

    static func noHistory(_ view: String) -> StorageError {
        StorageError.invalidArgument("view '\(view)' has no history: time travel works on $streams and ReadStream")
    }

    private static func check(_ write: ViewWrite, view: StoredView?, group: String, _ db: Database) throws {
        guard let view else { throw AppendWriter.viewNotFound(write.view) }
        let owner = view.definition.group
        guard owner == group else {
            throw StorageError(
                code: .failedPrecondition,
                message: "view '\(write.view)' is written by group '\(owner)', not '\(group)'")
        }
        guard let body = write.body else { return }
        let valid = try Bool.fetchOne(db.cachedStatement(sql: "SELECT json_valid(?)"), arguments: [body]) ?? false
        guard valid else {
            let what = if case .merge = write.operation { "merge patch" } else { "document" }
            throw StorageError.invalidArgument(
                "the \(what) for key '\(write.key)' of view '\(write.view)' is not valid JSON (RFC 8259)")
        }
        if case .merge(let patch) = write.operation {
            try checkMergedSize(patch, into: write, of: view, db)
        }
    }

    /// A merge may not grow a document past what a put may store. Checked against the
    /// document as it is now: merges of the same key settled in the same pass can pass the
    /// bound by at most their own size.
    private static func checkMergedSize(_ patch: String, into write: ViewWrite, of view: StoredView, _ db: Database) throws {
        let sql = "SELECT length(CAST(json_patch(doc, ?) AS BLOB)) FROM \(view.table) WHERE key = ?"
        guard let bytes = try Int.fetchOne(db.cachedStatement(sql: sql), arguments: [patch, write.key]),
              bytes > StorageLimits.viewDocumentBytesMax
        else { return }
        throw StorageError.invalidArgument("""
            merging this patch into key '\(write.key)' of view '\(write.view)' would make a document of \(bytes) \
            bytes; at most \(StorageLimits.viewDocumentBytesMax) are allowed
            """)
    }
}
