internal import Foundation
package import LogbookStorage
internal import Logging
internal import PostgresNIO
internal import Synchronization

/// Views (read models) and Query on the store the daemons share (DESIGN §6, §10).
///
/// A view's documents live in `logbook_view_<id>` as `jsonb`, indexed on
/// `logbook_sort_key` of each indexed path (`PostgresViewSchema`). They change only
/// inside `logbook_save_group`, after its fence and in its transaction, so a view holds
/// the effect of an event exactly when the group has settled it, whichever daemon
/// delivered it: exactly-once views hold across daemons.
extension PostgresStore {
    // MARK: Definitions

    /// Every view, by name.
    package func views() async throws -> [ViewDefinition] {
        let logger = self.logger
        return try await onReader(doing: "listing views") { connection in
            var views = [ViewDefinition]()
            let rows = try await connection.query(
                "SELECT name, group_name, indexed_paths FROM logbook_views ORDER BY name", logger: logger)
            for try await (name, group, paths) in rows.decode((String, String, [String]).self) {
                views.append(ViewDefinition(name: name, group: group, indexedPaths: paths))
            }
            return views
        }
    }

    /// Defines a view with its table and one index per path; defining again exactly what
    /// exists changes nothing. `.notFound` for no such group, `.viewExists` for a
    /// different view of that name.
    package func defineView(_ definition: ViewDefinition) async throws {
        try ViewValidator.validate(definition)
        let (name, group, paths) = (definition.name, definition.group, definition.indexedPaths)
        let indexPaths = paths.map(PostgresViewQuery.pathArray)
        let (time, logger) = (WallClock.nowMicros(), self.logger)
        let outcome = try await onReader(doing: "defining view '\(name)'") { connection in
            let rows = try await connection.query(
                "SELECT * FROM logbook_define_view(\(name), \(group), \(paths)::text[], \(indexPaths)::text[], \(time))",
                logger: logger)
            for try await row in rows.decode((String, String?, [String]?).self) { return row }
            throw StorageError.corrupt("logbook_define_view returned no row")
        }
        switch outcome.0 {
        case "c", "s":
            return
        case "g":
            throw StorageError(code: .notFound, message: "group '\(group)' does not exist")
        default:
            throw StorageError(code: .viewExists, message: """
                a different view named '\(name)' already exists (written by group '\(outcome.1 ?? "")', \
                indexing \(outcome.2 ?? [])); drop it first
                """)
        }
    }

    /// Drops a view with its documents. `.notFound` for no such view.
    package func dropView(_ name: String) async throws {
        try ViewValidator.validateName(name)
        let logger = self.logger
        let dropped = try await onReader(doing: "dropping view '\(name)'") { connection in
            for try await dropped in try await connection.query("SELECT logbook_drop_view(\(name))", logger: logger)
                .decode(Bool.self)
            {
                return dropped
            }
            return false
        }
        viewTables.withLock { _ = $0.removeValue(forKey: name) }
        guard dropped else { throw Self.viewNotFound(name) }
    }

    // MARK: Writes

    /// Checks the writes an ack of `group` carries before the ack is accepted: each view
    /// exists and is the group's, each body is JSON PostgreSQL takes, and a merge leaves a
    /// document within `StorageLimits.viewDocumentBytesMax`. One round trip.
    package func validateViewWrites(_ writes: [ViewWrite], group: String, deliveries: Int) async throws {
        try ViewValidator.validateShape(writes, countMax: StorageLimits.viewWritesPerAckMax * max(1, deliveries))
        if let (_, refusal) = try await firstRefusedWrite(writes, group: group) { throw refusal }
    }

    /// The same for the writes of several acks, in one round trip while all are good: the
    /// check stops at the first refused write, so the acks before its ack are good, its
    /// ack is refused, and the check goes on with the acks after it.
    package func viewWriteRefusals(_ acks: [(writes: [ViewWrite], deliveries: Int)], group: String) async -> [(any Error)?] {
        var refusals = [(any Error)?](repeating: nil, count: acks.count)
        var pending = [Int]()
        for (index, ack) in acks.enumerated() {
            do {
                try ViewValidator.validateShape(ack.writes, countMax: StorageLimits.viewWritesPerAckMax * max(1, ack.deliveries))
                pending.append(index)
            } catch {
                refusals[index] = error
            }
        }
        while !pending.isEmpty {
            let writes = pending.flatMap { acks[$0].writes }
            do {
                guard let (refused, refusal) = try await firstRefusedWrite(writes, group: group) else { break }
                var end = 0
                for (offset, ack) in pending.enumerated() {
                    end += acks[ack].writes.count
                    guard refused < end else { continue }
                    refusals[ack] = refusal
                    pending.removeFirst(offset + 1)
                    break
                }
            } catch {
                for ack in pending { refusals[ack] = error }
                break
            }
        }
        return refusals
    }

    /// The index of the first write PostgreSQL refuses, with why; nil when all are good.
    private func firstRefusedWrite(_ writes: [ViewWrite], group: String) async throws -> (Int, StorageError)? {
        guard !writes.isEmpty else { return nil }
        let columns = Self.columns(of: writes)
        let (sizeMax, logger) = (Int64(StorageLimits.viewDocumentBytesMax), self.logger)
        let problem = try await onReader(doing: "checking view writes of group '\(group)'") { connection in
            let rows = try await connection.query(
                """
                SELECT * FROM logbook_check_view_writes(\(group), \(columns.views)::text[], \(columns.keys)::text[],
                    \(columns.ops)::text[], \(columns.bodies)::text[], \(sizeMax))
                """, logger: logger)
            for try await row in rows.decode((Int32, String, String?).self) { return Optional(row) }
            return nil
        }
        guard let (number, kind, detail) = problem else { return nil }
        guard writes.indices.contains(Int(number) - 1) else {
            throw StorageError.corrupt("logbook_check_view_writes named write \(number) of \(writes.count)")
        }
        let write = writes[Int(number) - 1]
        return (Int(number) - 1, Self.refusal(of: write, kind: kind, detail: detail, group: group))
    }

    /// What `logbook_check_view_writes` found wrong with `write`, said as the embedded
    /// stores say it.
    private static func refusal(of write: ViewWrite, kind: String, detail: String?, group: String) -> StorageError {
        switch kind {
        case "n":
            return viewNotFound(write.view)
        case "g":
            return StorageError(
                code: .failedPrecondition, message: "view '\(write.view)' is written by group '\(detail ?? "")', not '\(group)'")
        case "s":
            return StorageError.invalidArgument("""
                merging this patch into key '\(write.key)' of view '\(write.view)' would make a document of \(detail ?? "?") \
                bytes; at most \(StorageLimits.viewDocumentBytesMax) are allowed
                """)
        default:
            let what = if case .merge = write.operation { "merge patch" } else { "document" }
            return StorageError.invalidArgument(
                "the \(what) for key '\(write.key)' of view '\(write.view)' is not valid JSON (RFC 8259): \(detail ?? "")")
        }
    }

    /// The writes as the parallel arrays `logbook_save_group` and
    /// `logbook_check_view_writes` take: 'p' put, 'm' merge, 'r' remove (with no body).
    static func columns(of writes: [ViewWrite]) -> (views: [String], keys: [String], ops: [String], bodies: [String]) {
        var columns = (views: [String](), keys: [String](), ops: [String](), bodies: [String]())
        for write in writes {
            columns.views.append(write.view)
            columns.keys.append(write.key)
            switch write.operation {
            case .put(let json):
                columns.ops.append("p")
                columns.bodies.append(json)
            case .merge(let patch):
                columns.ops.append("m")
                columns.bodies.append(patch)
            case .remove:
                columns.ops.append("r")
                columns.bodies.append("")
            }
        }
        return columns
    }

    // MARK: Queries

    /// One page of a view, `$streams` or `$event_types`, as the embedded stores give it
    /// (documents come back minified, with their keys in `jsonb`'s order). `.notFound`
    /// for no such view, `.invalidArgument` for a bad path, literal, limit or cursor.
    package func query(_ query: ViewQuery) async throws -> ViewPage {
        let plan = try ViewQueryPlan(query)
        let bound = Int64(clamping: min(query.asOfPosition ?? headPosition, headPosition))
        switch query.view {
        case SystemViews.streams:
            return try await run(plan) { builder in Self.streams(bound: builder.bind(bound)) }
        case SystemViews.eventTypes:
            return try await run(plan) { builder in Self.eventTypes(bound: builder.bind(bound)) }
        default:
            guard !query.view.hasPrefix("$") else { throw Self.viewNotFound(query.view) }
            guard query.asOfPosition == nil else {
                throw StorageError.invalidArgument(
                    "view '\(query.view)' has no history: time travel works on $streams and ReadStream")
            }
            // The table of a view dropped (and maybe defined again) since its id was
            // remembered is gone: look the view up again, once.
            for attempt in 0..<2 {
                let id = try await viewID(query.view, refresh: attempt > 0)
                do {
                    return try await run(plan) { _ in PostgresViewQuery.Source(table: "logbook_view_\(id)") }
                } catch let error as StorageError where Self.isUndefinedTable(error) && attempt == 0 {
                    continue
                }
            }
            throw Self.viewNotFound(query.view)
        }
    }

    /// One page over rows the caller made (the server's `$groups` and `$stats`).
    package func query(_ query: ViewQuery, rows: [ViewRow]) async throws -> ViewPage {
        let plan = try ViewQueryPlan(query)
        let (keys, documents) = (rows.map(\.key), rows.map(\.json))
        return try await run(plan) { builder in
            PostgresViewQuery.Source(
                with: """
                    WITH v(key, doc) AS (
                        SELECT r.key COLLATE "C", r.doc::jsonb FROM unnest(\(builder.bind(keys))::text[], \
                    \(builder.bind(documents))::text[]) AS r(key, doc))
                    """,
                table: "v")
        }
    }

    private func run(
        _ plan: ViewQueryPlan, source: (inout PostgresViewQuery) throws -> PostgresViewQuery.Source
    ) async throws -> ViewPage {
        var builder = PostgresViewQuery(plan)
        let from = try source(&builder)
        let sql = try builder.sql(from: from)
        let (statement, logger) = (PostgresQuery(unsafeSQL: sql, binds: builder.bindings), self.logger)
        let ordered = plan.query.orderBy != nil
        return try await onReader(doing: "querying \(plan.query.view)") { [builder] connection in
            let rows = try await connection.query(statement, logger: logger)
            var iterator = rows.makeAsyncIterator()
            return try await builder.page {
                guard let row = try await iterator.next() else { return nil }
                if ordered {
                    let (key, json, rank, number, text) = try row.decode((String, String, Int16?, String?, String?).self)
                    return (key, json, builder.orderValue(rank: rank, number: number, text: text))
                }
                let (key, json) = try row.decode((String, String).self)
                return (key, json, .none)
            }
        }
    }

    /// The id naming a view's table, remembered: every query of a view needs it.
    private func viewID(_ name: String, refresh: Bool) async throws -> Int64 {
        if !refresh, let known = viewTables.withLock({ $0[name] }) { return known }
        let logger = self.logger
        let id = try await onReader(doing: "finding view '\(name)'") { connection -> Int64? in
            for try await id in try await connection.query("SELECT id FROM logbook_views WHERE name = \(name)", logger: logger)
                .decode(Int64.self)
            {
                return id
            }
            return nil
        }
        viewTables.withLock { tables in
            if tables.count >= StorageLimits.postgresViewTablesKnownMax { tables.removeAll() }
            tables[name] = id
        }
        guard let id else { throw Self.viewNotFound(name) }
        return id
    }

    private static func isUndefinedTable(_ error: StorageError) -> Bool {
        (error.cause as? PSQLError)?.serverInfo?[.sqlState] == "42P01"
    }

    static func viewNotFound(_ name: String) -> StorageError {
        StorageError(code: .notFound, message: "view '\(name)' does not exist")
    }

    // MARK: System views

    /// Key: the stream's name; doc: `name`, `last_revision`, `event_count`,
    /// `first_position`, `last_position`, `first_time`, `last_time`, over the events at or
    /// below `bound`. Each stream's first and last events come from the (stream,
    /// revision) index; a stream's revisions are contiguous, so its count is their
    /// difference plus one. A stream with lifecycle rules also has `deleted` and `tombstoned`.
    private static func streams(bound: String) -> PostgresViewQuery.Source {
        PostgresViewQuery.Source(
            with: """
                WITH v(key, doc) AS (
                    SELECT s.name, jsonb_build_object(
                        'name', s.name, 'last_revision', l.revision, 'event_count', l.revision - f.revision + 1,
                        'first_position', f.position, 'last_position', l.position,
                        'first_time', \(rfc3339("f.time_us")), 'last_time', \(rfc3339("l.time_us")))
                        || CASE WHEN lc.lookup_key IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
                            'deleted', lc.tombstoned OR (lc.deleted AND l.revision < lc.truncate_before),
                            'tombstoned', lc.tombstoned) END
                    FROM logbook_streams s
                    LEFT JOIN logbook_stream_lifecycle lc ON lc.lookup_key = s.lookup_key
                    CROSS JOIN LATERAL (
                        SELECT e.revision, e.position, e.time_us FROM logbook_events e
                        WHERE e.stream_key = s.lookup_key AND e.position <= \(bound) ORDER BY e.revision LIMIT 1) f
                    CROSS JOIN LATERAL (
                        SELECT e.revision, e.position, e.time_us FROM logbook_events e
                        WHERE e.stream_key = s.lookup_key AND e.position <= \(bound) ORDER BY e.revision DESC LIMIT 1) l)
                """,
            table: "v")
    }

    /// Key: the type's name; doc: `name`, `event_count`, `first_position`, `last_position`.
    private static func eventTypes(bound: String) -> PostgresViewQuery.Source {
        PostgresViewQuery.Source(
            with: """
                WITH v(key, doc) AS (
                    SELECT e.type, jsonb_build_object(
                        'name', e.type, 'event_count', count(*), 'first_position', min(e.position),
                        'last_position', max(e.position))
                    FROM logbook_events e WHERE e.position <= \(bound) GROUP BY e.type)
                """,
            table: "v")
    }

    /// Unix microseconds as RFC 3339 UTC with microseconds, "2026-11-26T21:45:54.123456Z".
    private static func rfc3339(_ micros: String) -> String {
        #"to_char(timestamp 'epoch' + \#(micros) * interval '1 microsecond', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#
    }

    // MARK: Group progress

    /// The lowest checkpoint of each named group's partitions: what every daemon has
    /// settled up to, and so what its views hold at least. Groups that do not exist are
    /// missing from the answer.
    package func groupCheckpoints(_ names: [String]) async throws -> [String: UInt64] {
        let logger = self.logger
        return try await onReader(doing: "reading group checkpoints") { connection in
            var checkpoints = [String: UInt64]()
            let rows = try await connection.query(
                """
                SELECT group_name, min(checkpoint) FROM logbook_group_partitions
                WHERE group_name = ANY(\(names)::text[]) GROUP BY group_name
                """, logger: logger)
            for try await (name, checkpoint) in rows.decode((String, Int64).self) {
                checkpoints[name] = UInt64(clamping: checkpoint)
            }
            return checkpoints
        }
    }
}
