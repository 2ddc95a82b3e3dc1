internal import GRDB

/// The SQL for one read batch.
///
/// Each selector pins the index that serves it (`INDEXED BY`), and the events table is
/// the outer loop of the joins (`CROSS JOIN`), so SQLite walks the index in order and
/// stops after `limit` rows instead of choosing a plan that sorts. Positions are
/// bounded above by the published head, so rows of a commit that is not yet published
/// stay invisible.
struct ReadQuery {
    var sql: String
    var arguments: StatementArguments
    var limit: Int

    private static let columns = """
        e.position, s.name, e.revision, e.event_id, t.name, e.time_us, e.content_type, \
        e.data, e.metadata, e.correlation_id, e.causation_id
        """

    /// Nil when the request can match nothing (e.g. forwards from `.end`).
    init?(_ request: ReadRequest, headPosition: UInt64, stream: StreamHead?) throws(StorageError) {
        try Self.validate(request)
        let visible = min(headPosition, request.asOfPosition ?? headPosition)
        guard let range = Self.positionRange(request.start, request.direction, visible: visible) else { return nil }
        var conditions = ["e.position BETWEEN ? AND ?"]
        var values: [any DatabaseValueConvertible] = [
            Int64(clamping: range.lowerBound), Int64(clamping: range.upperBound),
        ]
        let source: String
        var order = "e.position"
        switch request.selector {
        case .stream:
            guard let stream else { return nil }
            source = "events AS e INDEXED BY events_stream_revision"
            order = "e.revision"
            conditions.append("e.stream_id = ?")
            values.append(stream.id)
            if case .revision(let revision) = request.start {
                conditions.append(request.direction == .forwards ? "e.revision >= ?" : "e.revision <= ?")
                values.append(Int64(clamping: revision))
            }
        case .all:
            source = "events AS e NOT INDEXED"
        case .category(let name):
            source = "events AS e INDEXED BY events_category_position"
            conditions.append("e.category_id = (SELECT id FROM categories WHERE name = ?)")
            values.append(name)
        case .eventType(let name):
            source = "events AS e INDEXED BY events_type_position"
            conditions.append("e.type_id = (SELECT id FROM event_types WHERE name = ?)")
            values.append(name)
        case .correlationID(let id):
            source = "events AS e INDEXED BY events_correlation_position"
            conditions.append("e.correlation_id = ? AND e.correlation_id <> ''")
            values.append(id)
        }
        Self.addFilter(request.filter, to: &conditions, values: &values)
        values.append(request.limit)
        let direction = request.direction == .forwards ? "ASC" : "DESC"
        sql = """
            SELECT \(Self.columns)
            FROM \(source)
            CROSS JOIN streams AS s ON s.id = e.stream_id
            CROSS JOIN event_types AS t ON t.id = e.type_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(order) \(direction)
            LIMIT ?
            """
        arguments = StatementArguments(values)
        limit = request.limit
    }

    func run(_ db: Database) throws -> [RecordedEvent] {
        let statement = try db.cachedStatement(sql: sql)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var events = [RecordedEvent]()
        events.reserveCapacity(min(limit, 256))
        while let row = try rows.next() {
            events.append(try EventRowDecoder.decode(row))
        }
        return events
    }

    private static func validate(_ request: ReadRequest) throws(StorageError) {
        guard (1...StorageLimits.readBatchEventsMax).contains(request.limit) else {
            throw .invalidArgument("read limit must be 1…\(StorageLimits.readBatchEventsMax), not \(request.limit)")
        }
        if case .revision = request.start {
            guard case .stream = request.selector else {
                throw .invalidArgument("a read from a revision needs a stream selector")
            }
        }
        if case .correlationID(let id) = request.selector, id.isEmpty {
            throw .invalidArgument("correlation id must not be empty")
        }
        if let filter = request.filter, filter.eventTypes.count > StorageLimits.filterEventTypesMax {
            throw .invalidArgument("a filter may name at most \(StorageLimits.filterEventTypesMax) event types")
        }
    }

    /// The inclusive range of positions the read may return, before the selector.
    private static func positionRange(
        _ start: ReadStart, _ direction: ReadDirection, visible: UInt64
    ) -> ClosedRange<UInt64>? {
        guard visible >= 1 else { return nil }
        switch (direction, start) {
        case (.forwards, .start), (.forwards, .revision), (.backwards, .end), (.backwards, .revision):
            return 1...visible
        case (.forwards, .end), (.backwards, .start):
            return nil
        case (.forwards, .position(let position)):
            return position <= visible ? max(position, 1)...visible : nil
        case (.backwards, .position(let position)):
            return position >= 1 ? 1...min(position, visible) : nil
        }
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
