internal import LogbookStorage
internal import LogbookWire
internal import NIOCore
internal import NIOPosix
internal import Synchronization

/// Query (DESIGN.md §6): finds where a query's rows come from (a view, a system view of
/// the store's or of the server's), waits for `min_position` when asked, and pages the
/// rows into replies that fit a frame.
final class QueryService: Sendable {
    /// Where a query's rows come from.
    enum Source {
        /// A view, with the checkpoint of the group that writes it.
        case view(LogbookStorage.ViewDefinition, checkpoint: PositionWatch)
        /// `$streams` and `$event_types`: the store computes them from the log.
        case store
        /// `$groups` and `$stats`: rows the server makes.
        case rows(@Sendable () async throws -> [ViewRow])
    }

    private let store: any ServedStore
    private let catalog: ViewCatalog
    private let groups: GroupManager
    private let systemRows: SystemViewRows
    private let threadPool: NIOThreadPool
    let limits: Limits
    /// The log's published head, for `min_position` on system views.
    let head: PositionWatch
    private let readers = Mutex(LookupReaders())

    /// Each event loop's lookup reader, made at its first lookup there.
    private struct LookupReaders {
        var byLoop = [ObjectIdentifier: (loop: any EventLoop, reader: NIOLoopBound<ViewLookupReader>)]()
        var stopped = false
    }

    init(
        store: any ServedStore, catalog: ViewCatalog, groups: GroupManager, systemRows: SystemViewRows,
        threadPool: NIOThreadPool, limits: Limits
    ) {
        self.store = store
        self.catalog = catalog
        self.groups = groups
        self.systemRows = systemRows
        self.threadPool = threadPool
        self.limits = limits
        let head = PositionWatch(store.headPosition)
        self.head = head
        // Updated on the committing thread: a task following the heads woke a thread per
        // commit, waiters or not.
        store.onHeadPosition { head.publish($0) }
    }

    /// Ends waits on the head and closes the lookup readers, each on its loop. Called
    /// once every connection has ended, so no lookup is running.
    func stop() async {
        self.head.close()
        let readers = self.readers.withLock { readers in
            readers.stopped = true
            defer { readers.byLoop.removeAll() }
            return Array(readers.byLoop.values)
        }
        for (loop, reader) in readers {
            try? await loop.submit { reader.value.close() }.get()
        }
    }

    func query(_ request: QueryRequest) async throws -> QueryReply {
        var query = ViewConversions.query(request)
        var source = try await self.source(of: request.view)
        if request.minPosition > 0 {
            source = try await self.wait(for: request, on: source)
        }
        let travel = try await TimeTravel.position(
            asOfPosition: request.asOfPosition, asOfTimeMicros: request.asOfTimeUnixMicros, request: "QueryRequest",
            store: self.store, threadPool: self.threadPool)
        // Read before the documents: they are at least this new, so the reply never claims
        // more than the rows show.
        let asOf: UInt64
        switch source {
        case .view(_, let checkpoint):
            guard travel == nil else { throw Self.noHistory(request.view) }
            asOf = checkpoint.value
        case .rows:
            guard travel == nil else { throw Self.noHistory(request.view) }
            asOf = self.store.headPosition
        case .store:
            query.asOfPosition = travel
            asOf = travel ?? self.store.headPosition
        }
        return ViewConversions.reply(try await self.page(query, source: source), asOf: asOf)
    }

    /// Answers a lookup (see `isLookup`) on `loop`, the connection's event loop, which
    /// calls it: it reads a few rows through an index, on the loop's own read connection
    /// with statements kept prepared, which costs less than the hops to another thread.
    func lookup(_ request: QueryRequest, on loop: any EventLoop) throws -> QueryReply {
        guard case .view(_, let checkpoint) = try self.knownSource(of: request.view) else {
            throw CallError(.internal, "\(request.view) is not a view to look up")
        }
        let asOf = checkpoint.value  // before the documents, as in `query`
        let reader = try self.reader(on: loop)
        var query = ViewConversions.query(request)
        while true {
            let page = try reader.query(query)
            guard let fitting = try self.rowsFitting(page, of: query) else { return ViewConversions.reply(page, asOf: asOf) }
            query.limit = fitting
        }
    }

    private func reader(on loop: any EventLoop) throws -> ViewLookupReader {
        let key = ObjectIdentifier(loop)
        let known = try self.readers.withLock { readers in
            guard !readers.stopped else { throw CallError.shuttingDown }
            return readers.byLoop[key]?.reader
        }
        if let known { return known.value }
        // Only this loop makes its reader, so no other can have been added meanwhile.
        let reader = try self.store.makeViewLookupReader()
        self.readers.withLock { $0.byLoop[key] = (loop, NIOLoopBound(reader, eventLoop: loop)) }
        return reader
    }

    /// Whether a query is a lookup: no wait, no time travel, one view, and a key or an
    /// equality on an indexed path, so it reads a few rows through an index. Anything else
    /// runs on the thread pool, where a long scan holds up no connection.
    func isLookup(_ request: QueryRequest) -> Bool {
        guard self.store.servesLookups, request.minPosition == 0, request.asOfPosition == 0, request.asOfTimeUnixMicros == 0,
              request.limit <= UInt32(StorageLimits.queryRowsDefault),
              let definition = self.catalog.definition(request.view)
        else { return false }
        if case .key = request.keys { return true }
        return request.predicates.contains { predicate in
            (predicate.op == .eq || predicate.op == .in) && definition.indexedPaths.contains(predicate.path)
        }
    }

    /// Where the view's rows come from; on a shared store, a view or a group another
    /// daemon made is found in the store first.
    func source(of view: String) async throws -> Source {
        if self.store.isShared, !view.hasPrefix("$"), let definition = try await self.catalog.find(view),
           self.groups.checkpoint(of: definition.group) == nil
        {
            // Its group was created by another daemon: started here on demand, as for a consumer.
            _ = try? await self.groups.runtime(definition.group)
        }
        return try self.knownSource(of: view)
    }

    /// Where the view's rows come from, from what this daemon knows.
    private func knownSource(of view: String) throws -> Source {
        switch view {
        case "":
            throw CallError.badField("QueryRequest.view", "name a view, or $streams, $groups, $event_types or $stats")
        case "$streams", "$event_types":
            return .store
        default:
            if let rows = self.systemRows.rows(of: view) { return .rows(rows) }
            guard let definition = self.catalog.definition(view) else {
                throw CallError(.notFound, "no view named \(view)")
            }
            guard let checkpoint = self.groups.checkpoint(of: definition.group) else {
                throw CallError(.unavailable, "the group \(definition.group) that writes \(view) is not running")
            }
            return .view(definition, checkpoint: checkpoint)
        }
    }

    private static func noHistory(_ view: String) -> CallError {
        CallError.badField(
            "QueryRequest.as_of_position", "time travel works on $streams, $event_types and ReadStream; \(view) holds its current state only")
    }

    private func page(_ query: ViewQuery, source: Source) async throws -> ViewPage {
        let (store, threadPool) = (self.store, self.threadPool)
        switch source {
        case .view(let definition, _):
            do {
                return try await self.fitting(query) { try await store.query($0, on: threadPool) }
            } catch let error as StorageError where error.code == .notFound && store.isShared {
                self.catalog.forget(definition.name)  // dropped by another daemon
                throw error
            }
        case .store:
            return try await self.fitting(query) { try await store.query($0, on: threadPool) }
        case .rows(let make):
            let rows = try await make()
            return try await self.fitting(query) { try await store.query($0, rows: rows) }
        }
    }

    /// The page `read` returns for `query`, cut to what fits one reply: a page past the
    /// budget is read again with the rows that fit as its limit, so its cursor continues
    /// right after them.
    private func fitting(_ query: ViewQuery, _ read: (ViewQuery) async throws -> ViewPage) async throws -> ViewPage {
        var query = query
        while true {
            let page = try await read(query)
            guard let fitting = try self.rowsFitting(page, of: query) else { return page }
            query.limit = fitting
        }
    }

    /// How many of the page's rows fit one reply, nil when all do.
    private func rowsFitting(_ page: ViewPage, of query: ViewQuery) throws -> Int? {
        var bytes = 0
        let fitting = page.rows.prefix { row in
            bytes += row.key.utf8.count + row.json.utf8.count + self.limits.queryRowOverheadBytes
            return bytes <= self.limits.queryReplyBytesMax
        }.count
        if fitting == page.rows.count { return nil }
        guard fitting > 0 else {
            throw CallError(.resourceExhausted, "a document of \(query.view) is larger than one reply may carry")
        }
        return fitting
    }
}
