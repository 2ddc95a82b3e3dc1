internal import LogbookStorage
internal import Logging
internal import NIOCore
internal import PostgresNIO

/// The SQL of one read batch on PostgreSQL: one statement, walking the index that
/// serves its selector in order and stopping after `limit` rows.
enum PostgresRead {
    typealias Columns = (Int64, String, Int64, ByteBuffer, String, Int64, String, ByteBuffer, ByteBuffer, String, String)

    private static let columns = """
        position, stream, revision, event_id, type, time_us, content_type, data, metadata, correlation_id, causation_id
        """

    /// Nil when the read can match nothing. `.notFound` for a stream that does not exist
    /// at `head`, as in the embedded stores: `asOfPosition` bounds the events, not whether
    /// the stream is there.
    static func query(
        _ request: ReadRequest, visible: UInt64, head: UInt64, connection: PostgresConnection, logger: Logger
    ) async throws -> PostgresQuery? {
        var streamKey: String?
        var lifecycle: StreamLifecycle?
        if case .stream(let name) = request.selector {
            let key = StreamName.lookupKey(name)
            lifecycle = try await PostgresLifecycle.find(key, connection, logger).lifecycle
            if let lifecycle, lifecycle.readsAsNotFound { throw AppendErrors.readOfDeleted(name, lifecycle) }
            guard try await firstPosition(ofStream: key, connection: connection, logger: logger).map({ $0 <= head }) == true else {
                throw StorageError(code: .notFound, message: "stream '\(name)' does not exist")
            }
            streamKey = key
        }
        guard let range = request.positionRange(visible: visible) else { return nil }
        var bindings = PostgresBindings()
        var conditions = [String]()
        func bind(_ value: some PostgresEncodable) throws -> String {
            try bindings.append(value)
            return "$\(bindings.count)"
        }
        conditions.append("position BETWEEN \(try bind(Int64(range.lowerBound))) AND \(try bind(Int64(range.upperBound)))")
        var order = "position"
        let now = WallClock.nowMicros()
        switch request.selector {
        case .stream:
            conditions.append("stream_key = \(try bind(streamKey ?? ""))")
            // One stream: its rules are bounds on its revisions and times.
            if let lifecycle {
                guard let bounds = lifecycle.readBounds(nowMicros: now) else { return nil }
                conditions.append("revision >= \(try bind(Int64(clamping: bounds.firstRevision)))")
                if let minTime = bounds.minTimeMicros { conditions.append("time_us >= \(try bind(minTime))") }
            }
            order = "revision"
            if case .revision(let revision) = request.start {
                let comparison = request.direction == .forwards ? ">=" : "<="
                conditions.append("revision \(comparison) \(try bind(Int64(clamping: revision)))")
            }
        case .all:
            break
        case .category(let name):
            conditions.append("category = \(try bind(name))")
        case .eventType(let name):
            conditions.append("type = \(try bind(name))")
        case .correlationID(let id):
            conditions.append("correlation_id = \(try bind(id))")
        }
        if case .stream = request.selector {} else {
            // Inside the LIMIT, so a short batch still means nothing more matches.
            conditions.append(PostgresLifecycle.visibleCondition(now: try bind(now)))
        }
        if let filter = request.filter {
            if !filter.eventTypes.isEmpty { conditions.append("type = ANY(\(try bind(filter.eventTypes)))") }
            if !filter.streamPrefix.isEmpty { conditions.append("starts_with(stream, \(try bind(filter.streamPrefix)))") }
        }
        let direction = request.direction == .forwards ? "ASC" : "DESC"
        let sql = """
            SELECT \(columns) FROM logbook_events
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY \(order) \(direction) LIMIT \(try bind(Int64(request.limit)))
            """
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    private static func firstPosition(ofStream key: String, connection: PostgresConnection, logger: Logger) async throws -> UInt64? {
        for try await position in try await connection.query(
            "SELECT position FROM logbook_events WHERE stream_key = \(key) AND revision = 0", logger: logger
        ).decode(Int64.self) {
            return UInt64(position)
        }
        return nil
    }

    static func event(_ row: Columns) throws -> RecordedEvent {
        let (position, stream, revision, id, type, time, contentType, data, metadata, correlation, causation) = row
        guard let id = EventID(bytes: Array(buffer: id)), position > 0, revision >= 0,
              let entries = metadata.withUnsafeReadableBytes({ MetadataCodec.decode($0) })
        else {
            throw StorageError(code: .corrupt, message: "the event at position \(position) in logbook_events does not decode")
        }
        return RecordedEvent(
            stream: stream, revision: UInt64(revision), position: UInt64(position), id: id, type: type,
            data: Array(buffer: data), contentType: contentType, metadata: entries,
            correlationID: correlation, causationID: causation, timeMicros: time)
    }
}
