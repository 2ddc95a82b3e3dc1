internal import GRDB

/// The writer's in-memory view of the log: dictionaries and stream heads.
///
/// Loaded once at open; afterwards only the writer thread changes it, tentatively
/// inside a batch (undone with a failed savepoint or batch), so expected-revision
/// checks and dictionary lookups never read the disk.
///
/// The SQLite engine loads every stream. The log engine's indexer loads none: it keeps
/// the rows of at most `StorageLimits.streamsCachedMax` streams (no heads: the log
/// writer owns those) and looks the others up on its own connection
/// (`AppendWriter.streamEntry`).
struct WriterState: Sendable {
    struct Stream: Sendable {
        var id: Int64
        var categoryID: Int64
        /// Nil only for a stream row without events, which the writer never leaves.
        var head: UInt64?
    }

    var streams: StreamCache<Stream>
    /// Whether `streams` holds every stream (the SQLite engine), so a name it lacks is new.
    var streamsAreComplete: Bool
    var eventTypes: [String: Int64] = [:]
    var categories: [String: Int64] = [:]
    /// The last position written (0 for an empty log).
    var headPosition: UInt64 = 0
    /// The last position the read indexes cover (`index_state.indexed_up_to`).
    var indexedUpTo: UInt64 = 0
    /// The newest commit time, so times never decrease even if the clock steps back.
    var lastTimeMicros: Int64 = 0
    /// The streams with lifecycle rules (SQLite engine; the log writer keeps the log
    /// engine's), each brought up to its head.
    var rules: [String: StreamLifecycle] = [:]

    /// Heads of every stream with events, in the form readers are given, read straight
    /// from the writer's map (a copy of a million streams cost a second at start).
    /// (None in the log engine, which loads no streams.)
    var publishedHeads: some Sequence<(String, UInt64)> {
        streams.entries.lazy.compactMap { entry in entry.value.head.map { (entry.name, $0) } }
    }

    /// `streamsCached`: nil loads every stream; otherwise none, and at most that many are kept.
    static func load(_ db: Database, streamsCached: Int?) throws -> WriterState {
        var state = WriterState(streams: StreamCache(capacity: streamsCached ?? .max), streamsAreComplete: streamsCached == nil)
        if state.streamsAreComplete {
            // Row ids only grow, so the largest is at least the count: one hash table, no rehashing.
            state.streams.reserveCapacity(try Int.fetchOne(db, sql: "SELECT MAX(id) FROM streams") ?? 0)
            let streamRows = try Row.fetchCursor(db, sql: Schema.SQL.loadStreams)
            while let row = try streamRows.next() {
                let name: String = try row.decode(atIndex: 1)
                let head: Int64? = try row.decode(atIndex: 3)
                state.streams[name] = Stream(
                    id: try row.decode(atIndex: 0),
                    categoryID: try row.decode(atIndex: 2),
                    head: try head.map { try checkedUnsigned($0, what: "revision of stream '\(name)'") }
                )
            }
        }
        if state.streamsAreComplete {
            state.rules = try StreamLifecycleRows.loadAll(db)
            for name in state.rules.keys {
                state.rules[name]?.catchUp(head: state.streams[name]?.head)
            }
        }
        state.eventTypes = try loadDictionary(db, sql: Schema.SQL.loadEventTypes)
        state.categories = try loadDictionary(db, sql: Schema.SQL.loadCategories)
        if let row = try Row.fetchOne(db, sql: Schema.SQL.loadHead) {
            state.headPosition = try checkedUnsigned(try row.decode(atIndex: 0), what: "position")
            state.lastTimeMicros = try row.decode(atIndex: 1)
        }
        state.indexedUpTo = try SecondaryIndexer.loadIndexedUpTo(db)
        guard state.indexedUpTo <= state.headPosition else {
            throw StorageError.corrupt(
                "the read indexes claim position \(state.indexedUpTo) but the log ends at \(state.headPosition)")
        }
        return state
    }

    private static func loadDictionary(_ db: Database, sql: String) throws -> [String: Int64] {
        var dictionary = [String: Int64]()
        let rows = try Row.fetchCursor(db, sql: sql)
        while let row = try rows.next() {
            dictionary[try row.decode(atIndex: 1)] = try row.decode(atIndex: 0)
        }
        return dictionary
    }

    static func checkedUnsigned(_ value: Int64, what: String) throws -> UInt64 {
        guard let unsigned = UInt64(exactly: value) else {
            throw StorageError.corrupt("negative \(what) \(value) in the database")
        }
        return unsigned
    }
}
