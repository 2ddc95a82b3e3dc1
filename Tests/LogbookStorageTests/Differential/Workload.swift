internal import LogbookStorage

/// The random appends and reads of a differential run, drawn from a seed.
///
/// Names come from small pools, so streams, categories, types and correlation ids recur
/// and reads find something; appends that succeeded are kept to retry verbatim and to
/// reuse their event ids elsewhere. What the workload knows of the log (stream heads,
/// the head position) it is told by the run, from the reference store.
struct Workload {
    /// The names a run draws from.
    struct Pools {
        var streams: [String]
        /// Category names to read: the pool's categories, prefixes of them that are not
        /// categories, and one that does not exist.
        var categories: [String]
        var types: [String]
        /// Types to read and filter by: `types` and some never written.
        var readTypes: [String]
        /// Correlation ids of written events ("" is none).
        var correlationIDs: [String]
        var readCorrelationIDs: [String]
        var causationIDs: [String]
        var contentTypes: [String]
        var metadata: [[MetadataEntry]]
        var streamPrefixes: [String]

        /// Plain names, traps for prefix matching (`order` and `orderbook`), a stream
        /// without a dash, one with an empty category, one with more dashes, non-ASCII.
        static let standard = Pools(
            streams: [
                "order-1", "order-2", "order-10", "orderbook-1", "cart-7", "cart-8", "user", "user-1", "a-b-c",
                "café-1", "-lead", "x",
            ],
            categories: ["order", "orderbook", "cart", "user", "a", "café", "", "x", "orde", "nope"],
            types: ["OrderPlaced", "OrderShipped", "ItemAdded", "Renamed", "Ünïcode"],
            readTypes: ["OrderPlaced", "OrderShipped", "ItemAdded", "Renamed", "Ünïcode", "Nope", "orderplaced"],
            correlationIDs: ["", "", "c1", "c2", "c3"],
            readCorrelationIDs: ["c1", "c2", "c3", "zz"],
            causationIDs: ["", "", "cause-1", "c1"],
            contentTypes: ["application/json", "application/json", "application/octet-stream", ""],
            metadata: [
                [], [], [MetadataEntry(key: "k", value: "v")],
                [MetadataEntry(key: "trace", value: "ab-12"), MetadataEntry(key: "é", value: "ü\u{1F600}")],
                [MetadataEntry(key: "a", value: "1"), MetadataEntry(key: "b", value: "")],
                [MetadataEntry(key: "k", value: "v"), MetadataEntry(key: "k", value: "w")],
            ],
            streamPrefixes: ["order-", "order", "cart", "u", "café", "-", "a-b", "zz"])

        /// Stream names, correlation and causation ids written in two canonically
        /// equivalent spellings (precomposed `é`, and `e` with a combining accent), past
        /// the category, so the category is spelled one way. Swift's `String` takes one
        /// spelling for the other (one stream), SQLite compares bytes.
        static let equivalentStreamNames = Pools(
            streams: ["x-café", "x-cafe\u{301}", "x-café-2", "x-cafe\u{301}-2", "order-1", "y-é", "y-e\u{301}"],
            categories: ["x", "y", "order", "x-caf"],
            types: ["Plain", "Other"],
            readTypes: ["Plain", "Other", "Nope"],
            correlationIDs: ["", "é", "e\u{301}"],
            readCorrelationIDs: ["é", "e\u{301}"],
            causationIDs: ["", "é", "e\u{301}"],
            contentTypes: ["application/json"],
            metadata: [[], [MetadataEntry(key: "é", value: "e\u{301}")]],
            streamPrefixes: ["x-café", "x-cafe\u{301}", "x-caf", "order", "y-é", "y-e\u{301}", "y-e"])

        /// Event types and categories written in two canonically equivalent spellings.
        static let equivalentTypesAndCategories = Pools(
            streams: ["café-1", "cafe\u{301}-1", "cafe\u{301}-2", "café-3", "order-1"],
            categories: ["café", "cafe\u{301}", "caf", "order"],
            types: ["Ünïcode", "U\u{308}ni\u{308}code", "Plain"],
            readTypes: ["Ünïcode", "U\u{308}ni\u{308}code", "Plain"],
            correlationIDs: ["", "c1"],
            readCorrelationIDs: ["c1"],
            causationIDs: [""],
            contentTypes: ["application/json"],
            metadata: [[]],
            streamPrefixes: ["café", "cafe\u{301}", "caf", "order"])
    }

    /// An append and what it was drawn to be.
    struct Append {
        enum Kind {
            /// New event ids.
            case fresh
            /// Some of the writes of `history[original]`, verbatim, in the given order:
            /// every store must answer with the original's result for those streams.
            case retry(original: Int, writes: [Int])
            /// The same append as the one at this index of the same pipeline.
            case resend(Int)
            /// Ids of an earlier append, reused in another stream, order or company.
            case conflicting
            /// Bad input the validator refuses.
            case refused
        }

        var writes: [StreamWrite]
        var kind: Kind
    }

    /// An append both stores accepted, and what each answered.
    struct Original {
        var writes: [StreamWrite]
        var log: AppendResult
        var sqlite: AppendResult
    }

    var random: SplitMix64
    let pools: Pools
    var history: [Original] = []
    private var eventsDrawn = 0

    init(seed: UInt64, pools: Pools) {
        random = SplitMix64(seed: seed)
        self.pools = pools
    }

    // MARK: Appends

    /// One append of any kind, judged against `heads` (the reference store's).
    mutating func append(heads: [String: UInt64]) -> Append {
        let roll = random.below(100)
        if roll < 12, let retry = retry() { return retry }
        if roll < 24, let conflicting = conflicting(heads: heads) { return Append(writes: conflicting, kind: .conflicting) }
        if roll < 30 { return Append(writes: refused(), kind: .refused) }
        return Append(writes: fresh(heads: heads), kind: .fresh)
    }

    /// Appends queued together: fresh ones judged against the heads as if the earlier
    /// ones of the pipeline had succeeded, and resends of earlier ones (a retry that
    /// lands in the same group commit as its original).
    mutating func pipeline(heads: [String: UInt64]) -> [Append] {
        var heads = heads
        var appends = [Append]()
        for _ in 0..<random.int(in: 2...6) {
            if !appends.isEmpty, random.percent(15) {
                let index = random.below(appends.count)
                appends.append(Append(writes: appends[index].writes, kind: .resend(index)))
                continue
            }
            let append = self.append(heads: heads)
            if case .fresh = append.kind, append.writes.allSatisfy({ $0.expected.isSatisfied(byHead: heads[$0.stream]) }) {
                for write in append.writes {
                    heads[write.stream] = heads[write.stream].map { $0 + UInt64(write.events.count) }
                        ?? UInt64(write.events.count - 1)
                }
            }
            appends.append(append)
        }
        return appends
    }

    /// 1…3 streams of 1…5 new events each.
    mutating func fresh(heads: [String: UInt64]) -> [StreamWrite] {
        random.distinct(random.int(in: 1...3), of: pools.streams).map { stream in
            StreamWrite(stream: stream, expected: expected(head: heads[stream]), events: events(random.int(in: 1...5)))
        }
    }

    /// Mostly an expectation that holds, of every kind; sometimes one that does not.
    mutating func expected(head: UInt64?) -> ExpectedRevision {
        if random.percent(85) {
            switch random.below(4) {
            case 0: return .any
            case 1: return head == nil ? .noStream : .streamExists
            default: return head.map { .exact($0) } ?? .noStream
            }
        }
        guard let head else {
            return random.percent(40) ? .streamExists : .exact(UInt64(random.below(3)))
        }
        switch random.below(3) {
        case 0: return .noStream
        case 1: return .exact(head + 1 + UInt64(random.below(3)))
        default: return head > 0 ? .exact(UInt64(random.below(Int(head)))) : .exact(1)
        }
    }

    /// Bytes of data the new events of one `events(_:)` call hold at most. Every append
    /// (3 such calls, or an earlier append and one more) stays below the log's sync reach
    /// on the 16 KiB segments the runs use (12 KiB): past it the engines differ on
    /// purpose (`LargeAppendTests`).
    static let newDataBytesMax = 1_536

    /// New events; a few with data of a kilobyte or so, so that commits split at the
    /// sync reach and records straddle segment ends in other places.
    mutating func events(_ count: Int) -> [ProposedEvent] {
        var budget = Self.newDataBytesMax
        return (0..<count).map { _ in
            var event = event(large: random.percent(8))
            if event.data.count > budget { event.data = Array("{\"n\":\(eventsDrawn)}".utf8) }
            budget -= event.data.count
            return event
        }
    }

    /// A new event: a fresh id, data that names it, the other fields from the pools.
    mutating func event(large: Bool = false) -> ProposedEvent {
        eventsDrawn += 1
        var data = Array("{\"n\":\(eventsDrawn)}".utf8)
        if large {
            data = Array(repeating: UInt8(truncatingIfNeeded: eventsDrawn), count: random.int(in: 500...1_200))
        } else if random.percent(10) {
            data = (0..<random.below(24)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        } else if random.percent(3) {
            data = []
        }
        return ProposedEvent(
            id: random.eventID(), type: random.pick(pools.types), data: data,
            contentType: random.pick(pools.contentTypes), metadata: random.pick(pools.metadata),
            correlationID: random.pick(pools.correlationIDs), causationID: random.pick(pools.causationIDs))
    }

    /// An earlier successful append, verbatim: usually whole, sometimes only some of its
    /// streams, in another order (still a replay: each stream's events are where they were).
    mutating func retry() -> Append? {
        guard !history.isEmpty else { return nil }
        let index = random.below(history.count)
        let original = history[index].writes
        var chosen = Array(original.indices)
        if original.count > 1, random.percent(30) {
            chosen = random.distinct(random.int(in: 1...original.count), of: chosen)
        }
        return Append(writes: chosen.map { original[$0] }, kind: .retry(original: index, writes: chosen))
    }

    /// Event ids of an earlier append where they do not replay it: in another stream,
    /// reversed, a prefix with a new event after it, the whole append plus a stream it did
    /// not name, or one id among new events.
    mutating func conflicting(heads: [String: UInt64]) -> [StreamWrite]? {
        guard !history.isEmpty else { return nil }
        let original = random.pick(history).writes
        let write = random.pick(original)
        let someEvents = Array(write.events.prefix(random.int(in: 1...write.events.count)))
        switch random.below(5) {
        case 0:
            let stream = random.pick(pools.streams.filter { $0 != write.stream })
            let events = (random.percent(50) ? events(random.int(in: 1...2)) : []) + someEvents
            return [StreamWrite(stream: stream, expected: expected(head: heads[stream]), events: events)]
        case 1 where write.events.count > 1:
            return [StreamWrite(stream: write.stream, expected: random.percent(50) ? write.expected : .any, events: write.events.reversed())]
        case 2:
            return [StreamWrite(stream: write.stream, expected: expected(head: heads[write.stream]), events: someEvents + events(1))]
        case 3:
            let named = Set(original.map(\.stream))
            guard let stream = random.distinct(1, of: pools.streams.filter { !named.contains($0) }).first else { return nil }
            return original + [StreamWrite(stream: stream, expected: .any, events: events(random.int(in: 1...2)))]
        default:
            var events = events(random.int(in: 1...3))
            events.insert(random.pick(write.events), at: random.below(events.count + 1))
            let stream = random.percent(50) ? write.stream : random.pick(pools.streams)
            return [StreamWrite(stream: stream, expected: expected(head: heads[stream]), events: events)]
        }
    }

    /// An append the validator refuses before it reaches either writer.
    mutating func refused() -> [StreamWrite] {
        let stream = random.pick(pools.streams)
        let good = events(random.int(in: 1...3))
        var bad = event()
        switch random.below(10) {
        case 0:
            return []
        case 1:
            return [StreamWrite(stream: "", events: good)]
        case 2:
            return [StreamWrite(stream: "$all", events: good)]
        case 3:
            return [StreamWrite(stream: stream, events: good), StreamWrite(stream: stream, events: events(1))]
        case 4:
            return [StreamWrite(stream: stream, events: good), StreamWrite(stream: stream + "-more", events: [])]
        case 5:
            return [StreamWrite(stream: stream, events: good + [good[0]])]
        case 6:
            return [StreamWrite(stream: stream, events: good), StreamWrite(stream: stream + "-more", events: [good[good.count - 1]])]
        case 7:
            bad.type = ""
        case 8:
            bad.correlationID = "c\u{0}1"
        default:
            return [StreamWrite(stream: String(repeating: "s", count: StorageLimits.streamNameBytesMax + 1), events: good)]
        }
        return [StreamWrite(stream: stream, events: good + [bad])]
    }

    // MARK: Reads

    /// A read of any selector, direction, start, limit, filter and `asOfPosition`; now
    /// and then one the store must refuse.
    mutating func read(headPosition: UInt64, heads: [String: UInt64]) -> ReadRequest {
        if random.percent(2) { return invalidRead() }
        let selector: Selector
        switch random.below(20) {
        case 0..<6: selector = .stream(random.pick(pools.streams + ["never-written", "", "$all"]))
        case 6..<10: selector = .all
        case 10..<14: selector = .category(random.pick(pools.categories))
        case 14..<17: selector = .eventType(random.pick(pools.readTypes))
        default: selector = .correlationID(random.pick(pools.readCorrelationIDs))
        }
        let start: ReadStart
        switch random.below(20) {
        case 0..<5:
            start = .start
        case 5..<10:
            start = .end
        case 10..<16:
            start = .position(random.position(in: 0...headPosition + 2))
        default:
            if case .stream(let name) = selector {
                start = .revision(random.position(in: 0...(heads[name] ?? 0) + 2))
            } else {
                start = .position(random.position(in: 0...headPosition + 2))
            }
        }
        var filter: ReadFilter?
        if random.percent(35) {
            filter = ReadFilter(
                eventTypes: random.distinct(random.below(3), of: pools.readTypes),
                streamPrefix: random.percent(50) ? random.pick(pools.streamPrefixes) : "")
        }
        return ReadRequest(
            selector: selector, start: start, direction: random.percent(50) ? .forwards : .backwards,
            limit: random.pick([1, 2, 3, 5, 8, 50, StorageLimits.readBatchEventsMax]), filter: filter,
            asOfPosition: random.percent(25) ? random.position(in: 0...headPosition + 2) : nil)
    }

    private mutating func invalidRead() -> ReadRequest {
        switch random.below(4) {
        case 0: ReadRequest(selector: .all, limit: 0)
        case 1: ReadRequest(selector: .all, limit: StorageLimits.readBatchEventsMax + 1)
        case 2: ReadRequest(selector: .category(random.pick(pools.categories)), start: .revision(0), limit: 5)
        default: ReadRequest(selector: .correlationID(""), limit: 5)
        }
    }
}
