internal import Foundation
internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix
internal import Synchronization

/// The read side (DESIGN.md §6): view definitions, and Query over views and system views
/// with the read-your-writes wait of `min_position`.
///
/// Definitions change only through this service, so it keeps them in memory; a query
/// then finds its view's group without a read.
final class ViewService: Sendable {
    private let store: EventStore
    private let groups: GroupManager
    private let stats: ServerStats
    private let threadPool: NIOThreadPool
    private let catalog: Mutex<[String: LogbookStorage.ViewDefinition]>
    /// The log's published head, for `min_position` on system views.
    private let head: PositionWatch
    private let headTask: Task<Void, Never>

    init(store: EventStore, groups: GroupManager, stats: ServerStats, threadPool: NIOThreadPool) throws {
        self.store = store
        self.groups = groups
        self.stats = stats
        self.threadPool = threadPool
        self.catalog = Mutex(Dictionary(uniqueKeysWithValues: try store.views().map { ($0.name, $0) }))
        let head = PositionWatch(store.headPosition)
        self.head = head
        self.headTask = Task {
            for await position in store.headPositions() { head.publish(position) }
        }
    }

    func stop() {
        self.headTask.cancel()
        self.head.close()
    }

    // MARK: Admin

    func define(_ view: LogbookWire.ViewDefinition) async throws {
        let definition = LogbookStorage.ViewDefinition(name: view.name, group: view.group, indexedPaths: view.indexedPaths)
        try await self.store.defineView(definition)
        self.catalog.withLock { $0[definition.name] = definition }
    }

    func drop(_ name: String) async throws {
        try await self.store.dropView(name)
        self.catalog.withLock { $0[name] = nil }
    }

    func list() -> [LogbookWire.ViewDefinition] {
        self.catalog.withLock { Array($0.values) }
            .sorted { $0.name < $1.name }
            .map { LogbookWire.ViewDefinition(name: $0.name, group: $0.group, indexedPaths: $0.indexedPaths) }
    }

    /// The views a group writes: a group that has some cannot be deleted.
    func owned(by group: String) -> [String] {
        self.catalog.withLock { $0.values.filter { $0.group == group }.map(\.name) }.sorted()
    }

    // MARK: Query

    func query(_ request: QueryRequest, limits: Limits) async throws -> QueryReply {
        var query = try Self.viewQuery(request)
        var source = try self.source(of: request.view)
        if request.minPosition > 0 {
            source = try await self.wait(for: request, on: source, limits: limits)
        }
        // Read before the documents: they are at least this new, so the reply never claims
        // more than the rows show.
        let asOf: UInt64
        switch source {
        case .view(_, let runtime):
            guard request.asOfPosition == 0, request.asOfTimeUnixMicros == 0 else {
                throw CallError.badField("QueryRequest.as_of_position", "time travel works on $streams and ReadStream, not on a view")
            }
            asOf = runtime.checkpoint.value
        case .store, .rows:
            asOf = try await self.timeTravel(request, into: &query)
        }
        return Self.reply(try await self.page(query, source: source, limits: limits), asOf: asOf)
    }

    /// Answers a lookup (see `isLookup`) on the calling thread, the connection's event loop:
    /// it reads a few rows through an index, which costs less than the hops to another thread.
    func lookup(_ request: QueryRequest, limits: Limits) throws -> QueryReply {
        var query = try Self.viewQuery(request)
        guard case .view(_, let runtime) = try self.source(of: request.view) else {
            throw CallError(.internal, "\(request.view) is not a view to look up")
        }
        let asOf = runtime.checkpoint.value  // before the documents, as in `query`
        while true {
            let page = try self.store.query(query)
            guard let fitting = try Self.rowsFitting(page, of: query, limits: limits) else {
                return Self.reply(page, asOf: asOf)
            }
            query.limit = fitting
        }
    }

    private static func reply(_ page: ViewPage, asOf: UInt64) -> QueryReply {
        QueryReply(rows: page.rows.map { Row(key: $0.key, json: $0.json) }, asOfPosition: asOf, nextCursor: page.nextCursor ?? [])
    }

    /// Whether a query is a lookup: no wait, no time travel, one view, and a key or an
    /// equality on an indexed path, so it reads a few rows through an index. Anything else
    /// runs on the thread pool, where a long scan holds up no connection.
    func isLookup(_ request: QueryRequest) -> Bool {
        guard request.minPosition == 0, request.asOfPosition == 0, request.asOfTimeUnixMicros == 0,
              request.limit <= UInt32(StorageLimits.queryRowsDefault),
              let definition = self.catalog.withLock({ $0[request.view] })
        else { return false }
        if case .key = request.keys { return true }
        return request.predicates.contains { predicate in
            (predicate.op == .eq || predicate.op == .in) && definition.indexedPaths.contains(predicate.path)
        }
    }

    /// Where a query's rows come from.
    private enum Source {
        /// A view, with the runtime of the group that writes it.
        case view(LogbookStorage.ViewDefinition, GroupRuntime)
        /// `$streams` and `$event_types`: the store computes them from the log.
        case store
        /// `$groups` and `$stats`: rows the server makes.
        case rows(@Sendable () throws -> [ViewRow])
    }

    private func source(of view: String) throws -> Source {
        switch view {
        case "":
            throw CallError.badField("QueryRequest.view", "name a view, or $streams, $groups, $event_types or $stats")
        case "$streams", "$event_types":
            return .store
        case "$groups":
            return .rows { try self.groupRows() }
        case "$stats":
            return .rows { try self.statsRows() }
        default:
            guard let definition = self.catalog.withLock({ $0[view] }) else {
                throw CallError(.notFound, "no view named \(view)")
            }
            guard let runtime = self.groups.runtime(definition.group) else {
                throw CallError(.unavailable, "the group \(definition.group) that writes \(view) is not running")
            }
            return .view(definition, runtime)
        }
    }

    /// Waits until the view's group (the log, for a system view) has processed every
    /// event up to `min_position`; returns the source to read, which is new when the group
    /// restarted meanwhile (its settings changed).
    private func wait(for request: QueryRequest, on source: Source, limits: Limits) async throws -> Source {
        let wait = request.waitMs == 0 ? limits.queryWaitDefault : .milliseconds(request.waitMs)
        guard wait <= limits.queryWaitMax else {
            throw CallError.limit("QueryRequest.wait_ms", value: Int(request.waitMs), max: Int(limits.queryWaitMax.components.seconds * 1000), code: .invalidArgument)
        }
        let deadline = ContinuousClock.now + wait
        var source = source
        while true {
            let (watch, what) = self.watch(of: source)
            if await watch.wait(until: request.minPosition, deadline: deadline) { return source }
            try Task.checkCancellation()
            guard ContinuousClock.now < deadline else {
                throw CallError(.deadlineExceeded, """
                    \(what) has processed up to position \(watch.value), not yet \(request.minPosition), \
                    after waiting \(wait)
                    """)
            }
            // The watch closed before the deadline: the group's runtime stopped. Wait on
            // its successor (a moment later, while the old one is still being replaced).
            try await Task.sleep(for: .milliseconds(10))
            source = try self.source(of: request.view)
        }
    }

    private func watch(of source: Source) -> (PositionWatch, String) {
        switch source {
        case .view(let definition, let runtime):
            (runtime.checkpoint, "view \(definition.name) (group \(definition.group))")
        case .store, .rows:
            (self.head, "the log")
        }
    }

    /// Resolves `as_of_time` to a position; returns the position the reply is as of.
    private func timeTravel(_ request: QueryRequest, into query: inout ViewQuery) async throws -> UInt64 {
        let head = self.store.headPosition
        if request.asOfPosition != 0, request.asOfTimeUnixMicros != 0 {
            throw CallError.badField("QueryRequest.as_of_time_unix_micros", "give as_of_position or as_of_time, not both")
        }
        var asOf: UInt64?
        if request.asOfPosition != 0 {
            asOf = min(request.asOfPosition, head)
        } else if request.asOfTimeUnixMicros != 0 {
            let store = self.store
            let micros = request.asOfTimeUnixMicros
            asOf = min(try await self.threadPool.runIfActive { try store.position(atOrBeforeTime: micros) }, head)
        }
        if asOf != nil, request.view != "$streams", request.view != "$event_types" {
            throw CallError.badField("QueryRequest.as_of_position", "time travel works on $streams, $event_types and ReadStream")
        }
        query.asOfPosition = asOf
        return asOf ?? head
    }

    private func page(_ query: ViewQuery, source: Source, limits: Limits) async throws -> ViewPage {
        let store = self.store
        var query = query
        while true {
            let page: ViewPage
            switch source {
            case .view, .store:
                let current = query
                page = try await self.threadPool.runIfActive { try store.query(current) }
            case .rows(let make):
                page = try store.query(query, rows: try make())
            }
            guard let fitting = try Self.rowsFitting(page, of: query, limits: limits) else { return page }
            query.limit = fitting
        }
    }

    /// Nil when the page fits one reply; else how many of its rows do. A page past the
    /// budget is asked for again with that limit: its cursor then continues right after them.
    private static func rowsFitting(_ page: ViewPage, of query: ViewQuery, limits: Limits) throws -> Int? {
        var bytes = 0
        let fitting = page.rows.prefix { row in
            bytes += row.key.utf8.count + row.json.utf8.count + 16
            return bytes <= limits.queryReplyBytesMax
        }.count
        if fitting == page.rows.count { return nil }
        guard fitting > 0 else {
            throw CallError(.resourceExhausted, "a document of \(query.view) is larger than one reply may carry")
        }
        return fitting
    }

    private static func viewQuery(_ request: QueryRequest) throws -> ViewQuery {
        let keys: ViewKeys
        switch request.keys {
        case .key(let key): keys = .key(key)
        case .keyPrefix(let prefix): keys = .prefix(prefix)
        case nil: keys = .all
        }
        return ViewQuery(
            view: request.view,
            keys: keys,
            predicates: request.predicates.map { predicate in
                ViewPredicate(path: predicate.path, op: Self.predicateOperator(predicate.op), values: predicate.values)
            },
            orderBy: request.orderBy.isEmpty ? nil : request.orderBy,
            descending: request.descending,
            limit: request.limit == 0 ? StorageLimits.queryRowsDefault : Int(request.limit),
            cursor: request.cursor.isEmpty ? nil : request.cursor
        )
    }

    private static func predicateOperator(_ op: PredicateOp) -> ViewPredicate.Operator {
        switch op {
        case .eq: .equal
        case .ne: .notEqual
        case .lt: .less
        case .le: .lessOrEqual
        case .gt: .greater
        case .ge: .greaterOrEqual
        case .prefix: .prefix
        case .in: .in
        }
    }

    // MARK: Rows the server makes

    private func groupRows() throws -> [ViewRow] {
        try self.groups.list().compactMap { info in
            guard let settings = info.settings else { return nil }
            let document = GroupDocument(
                name: settings.name,
                checkpoint: info.checkpoint,
                lag: info.lag,
                consumers: info.consumers,
                inFlight: info.inFlight,
                parked: info.parked,
                strategy: GroupDocument.strategyName(settings.strategy)
            )
            return ViewRow(key: settings.name, json: try Self.json(document))
        }
    }

    private func statsRows() throws -> [ViewRow] {
        let uptime = self.stats.uptime.components
        let document = StatsDocument(
            appends: self.stats.appends,
            events: self.store.headPosition,
            headPosition: self.store.headPosition,
            bytes: ServerStats.bytesOnDisk(databasePath: self.store.databasePath),
            connections: self.stats.connections,
            uptimeSeconds: Double(uptime.seconds) + Double(uptime.attoseconds) / 1e18
        )
        return [ViewRow(key: "stats", json: try Self.json(document))]
    }

    private static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A `$groups` row.
private struct GroupDocument: Encodable {
    var name: String
    var checkpoint: UInt64
    var lag: UInt64
    var consumers: UInt32
    var inFlight: UInt32
    var parked: UInt64
    var strategy: String

    static func strategyName(_ strategy: Strategy) -> String {
        switch strategy {
        case .byStream: "by_stream"
        case .roundRobin: "round_robin"
        case .single: "single"
        }
    }
}

/// The `$stats` row. `events` is the log's length: positions are dense.
private struct StatsDocument: Encodable {
    var appends: UInt64
    var events: UInt64
    var headPosition: UInt64
    var bytes: UInt64
    var connections: Int
    var uptimeSeconds: Double
}
