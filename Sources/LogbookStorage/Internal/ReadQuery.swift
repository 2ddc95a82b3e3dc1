internal import GRDB

/// The SQL for one read batch: one statement, or two for the selectors whose index
/// tables are filled behind the commits.
///
/// Each statement pins the index that serves it (`INDEXED BY`, or the index table as
/// the outer loop), and the joins run in the written order (`CROSS JOIN`), so SQLite
/// walks the index in order and stops after `limit` rows instead of choosing a plan
/// that sorts. Positions are bounded above by the published head, so rows of a commit
/// that is not yet published stay invisible.
///
/// By type, category or correlation id, positions up to the published `indexedUpTo`
/// come from the index table and later ones from a scan of `events` by position with
/// the same condition; the two ranges meet without overlap, so a read sees each event
/// once whatever catch-up runs meanwhile (index rows are never removed).
///
/// In the log engine the SQLite tables end at the snapshot's `storedUpTo`; the events
/// after it, up to the head, come from the in-memory tail (`TailScan`), the same
/// conditions tested in Swift. A read at the head needs no SQL at all, and neither does
/// `$all`, whose stored part comes from the log in position order (`LogScan`).
struct ReadQuery {
    /// One statement; `LIMIT` is its last parameter, bound when it runs.
    struct SQLPart {
        var sql: String
        var arguments: StatementArguments
    }

    enum Part {
        case sql(SQLPart)
        case log(LogScan)
        case tail(TailScan)
    }

    /// Run in order until `limit` events are found.
    var parts: [Part]
    var limit: Int
    /// Log engine: the rows only name the events (`keyColumns`), which come from here.
    var log: SegmentLog?

    /// Whether running it needs a reader connection.
    var needsDatabase: Bool {
        parts.contains { if case .sql = $0 { true } else { false } }
    }

    private static let columns = """
        e.position, s.name, e.revision, e.event_id, t.name, e.time_us, e.content_type, \
        e.data, e.metadata, e.correlation_id, e.causation_id
        """

    /// What a row gives in the log engine: enough to find the record and check it.
    private static let keyColumns = "e.position, e.revision, e.event_id"

    private static let joins = """
        CROSS JOIN streams AS s ON s.id = e.stream_id
        CROSS JOIN event_types AS t ON t.id = e.type_id
        """

    /// Nil when the request can match nothing (e.g. forwards from `.end`). `visibility`:
    /// the lifecycle rules that hide events, nil when no stream has any.
    init?(
        _ request: ReadRequest, snapshot: ReadSnapshot, streamName: String?, log: SegmentLog?,
        visibility: ReadVisibility? = nil
    ) throws(StorageError) {
        try request.validate()
        self.log = log
        let columns = log == nil ? Self.columns : Self.keyColumns
        let visible = min(snapshot.headPosition, request.asOfPosition ?? snapshot.headPosition)
        guard let whole = request.positionRange(visible: visible) else { return nil }
        limit = request.limit
        let stored = snapshot.storedUpTo
        var tail: Part?
        if whole.upperBound > stored {
            let tailRange = max(whole.lowerBound, stored + 1)...whole.upperBound
            tail = .tail(TailScan(
                request, range: tailRange, stream: streamName, chunks: snapshot.tail, visibility: visibility))
        }
        var storedParts = [Part]()
        if whole.lowerBound <= stored {
            let range = whole.lowerBound...min(whole.upperBound, stored)
            if log != nil, case .all = request.selector {
                storedParts = [.log(LogScan(request, range: range, visibility: visibility))]
            } else {
                storedParts = Self.sqlParts(
                    request, range: range, indexedUpTo: snapshot.indexedUpTo, stream: streamName, columns: columns,
                    visibility: visibility)
            }
        }
        let ordered = request.direction == .forwards
            ? storedParts + [tail].compactMap { $0 } : [tail].compactMap { $0 } + storedParts
        parts = ordered
    }

    /// The statements for positions in `range`, all of which SQLite's `events` holds.
    private static func sqlParts(
        _ request: ReadRequest, range: ClosedRange<UInt64>, indexedUpTo: UInt64, stream: String?, columns: String,
        visibility: ReadVisibility?
    ) -> [Part] {
        let direction = request.direction == .forwards ? "ASC" : "DESC"
        var filter = [String]()
        var filterValues = [any DatabaseValueConvertible]()
        Self.addFilter(request.filter, to: &filter, values: &filterValues)
        if let visibility {
            if case .stream = request.selector {
                // One stream: its rules are bounds on its revisions and times.
                if let stream, let lifecycle = visibility.rules[stream] {
                    guard let bounds = lifecycle.readBounds(nowMicros: visibility.nowMicros) else { return [] }
                    filter.append("e.revision >= ?")
                    filterValues.append(Int64(clamping: bounds.firstRevision))
                    if let minTime = bounds.minTimeMicros {
                        filter.append("e.time_us >= ?")
                        filterValues.append(minTime)
                    }
                }
            } else {
                // Inside the LIMIT: a short batch must still mean nothing more matches.
                filter.append("\(StreamRules.sqlFunctionName)(s.name, e.revision, e.time_us, ?)")
                filterValues.append(visibility.nowMicros)
            }
        }

        let indexTable: String
        let keyColumn: String
        let key: String
        let keyValue: any DatabaseValueConvertible
        switch request.selector {
        case .stream:
            guard let stream else { return [] }
            var conditions = ["e.position BETWEEN ? AND ?", "e.stream_id = (SELECT id FROM streams WHERE name = ?)"]
            var values: [any DatabaseValueConvertible] = [
                Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound), stream,
            ]
            if case .revision(let revision) = request.start {
                conditions.append(request.direction == .forwards ? "e.revision >= ?" : "e.revision <= ?")
                values.append(Int64(clamping: revision))
            }
            return [.sql(SQLPart(
                sql: """
                    SELECT \(columns)
                    FROM events AS e INDEXED BY events_stream_revision
                    \(Self.joins)
                    WHERE \((conditions + filter).joined(separator: " AND "))
                    ORDER BY e.revision \(direction)
                    LIMIT ?
                    """,
                arguments: StatementArguments(values + filterValues)))]
        case .all:
            return [.sql(Self.scan(
                range, condition: nil, value: nil, filter: filter, filterValues: filterValues, direction, columns: columns))]
        case .category(let name):
            (indexTable, keyColumn, key, keyValue) = (
                "events_by_category", "category_id", "(SELECT id FROM categories WHERE name = ?)", name)
        case .eventType(let name):
            (indexTable, keyColumn, key, keyValue) = (
                "events_by_type", "type_id", "(SELECT id FROM event_types WHERE name = ?)", name)
        case .correlationID(let id):
            // Validated non-empty: events without a correlation id have no index row.
            (indexTable, keyColumn, key, keyValue) = ("events_by_correlation", "correlation_id", "?", id)
        }

        var indexed: SQLPart?
        if range.lowerBound <= indexedUpTo {
            let upper = min(range.upperBound, indexedUpTo)
            let values: [any DatabaseValueConvertible] = [
                keyValue, Int64(clamping: range.lowerBound), Int64(clamping: upper),
            ]
            indexed = SQLPart(
                sql: """
                    SELECT \(columns)
                    FROM \(indexTable) AS x
                    CROSS JOIN events AS e ON e.position = x.position
                    \(Self.joins)
                    WHERE \((["x.\(keyColumn) = \(key)", "x.position BETWEEN ? AND ?"] + filter).joined(separator: " AND "))
                    ORDER BY x.position \(direction)
                    LIMIT ?
                    """,
                arguments: StatementArguments(values + filterValues))
        }
        var unindexed: SQLPart?
        if range.upperBound > indexedUpTo {
            let unindexedRange = max(range.lowerBound, indexedUpTo + 1)...range.upperBound
            unindexed = Self.scan(
                unindexedRange, condition: "e.\(keyColumn) = \(key)", value: keyValue,
                filter: filter, filterValues: filterValues, direction, columns: columns)
        }
        let ordered = request.direction == .forwards ? [indexed, unindexed] : [unindexed, indexed]
        return ordered.compactMap { $0 }.map { .sql($0) }
    }

    /// Reads `events` in position order over `range`, the rows tested one by one.
    private static func scan(
        _ range: ClosedRange<UInt64>, condition: String?, value: (any DatabaseValueConvertible)?,
        filter: [String], filterValues: [any DatabaseValueConvertible], _ direction: String, columns: String
    ) -> SQLPart {
        var conditions = ["e.position BETWEEN ? AND ?"]
        var values: [any DatabaseValueConvertible] = [Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound)]
        if let condition, let value {
            conditions.append(condition)
            values.append(value)
        }
        return SQLPart(
            sql: """
                SELECT \(columns)
                FROM events AS e NOT INDEXED
                \(joins)
                WHERE \((conditions + filter).joined(separator: " AND "))
                ORDER BY e.position \(direction)
                LIMIT ?
                """,
            arguments: StatementArguments(values + filterValues))
    }

    /// Runs every part in order; `db` is nil when `needsDatabase` is false.
    func run(_ db: Database?) throws -> [RecordedEvent] {
        var events = [RecordedEvent]()
        events.reserveCapacity(min(limit, StorageLimits.readReservedEventsMax))
        for part in parts where events.count < limit {
            switch part {
            case .sql(let part):
                guard let db else { throw StorageError(code: .internalError, message: "a read needs SQLite but has no connection") }
                let statement = try db.cachedStatement(sql: part.sql)
                let rows = try Row.fetchCursor(statement, arguments: part.arguments + [limit - events.count])
                if let log {
                    var keys = [LogEvents.Key]()
                    while let row = try rows.next() {
                        keys.append(try LogEvents.Key(row))
                    }
                    try LogEvents.append(keys, to: &events, from: log)
                } else {
                    while let row = try rows.next() {
                        events.append(try EventRowDecoder.decode(row))
                    }
                }
            case .log(let scan):
                guard let log else { throw StorageError(code: .internalError, message: "a log scan without a log") }
                try scan.run(into: &events, limit: limit, log: log)
            case .tail(let scan):
                try scan.run(into: &events, limit: limit)
            }
        }
        return events
    }

    private static func addFilter(
        _ filter: ReadFilter?, to conditions: inout [String], values: inout [any DatabaseValueConvertible]
    ) {
        guard let filter, !filter.isEmpty else { return }
        if !filter.eventTypes.isEmpty {
            let placeholders = Array(repeating: "?", count: filter.eventTypes.count).joined(separator: ", ")
            conditions.append("e.type_id IN (SELECT id FROM event_types WHERE name IN (\(placeholders)))")
            values.append(contentsOf: filter.eventTypes as [any DatabaseValueConvertible])
        }
        if !filter.streamPrefix.isEmpty {
            conditions.append("substr(s.name, 1, ?) = ?")
            values.append(filter.streamPrefix.unicodeScalars.count)
            values.append(filter.streamPrefix)
        }
    }
}
