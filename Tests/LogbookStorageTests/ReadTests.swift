@testable internal import LogbookStorage
internal import Testing

/// Reads checked against a plain in-memory model of the same log, for every selector,
/// both directions, every kind of start, several limits, `asOfPosition` and filters.
@Suite struct ReadTests {
    /// A small log touching several streams, categories, types and correlation ids.
    static let appends: [[StreamWrite]] = [
        [Make.write("order-1", .noStream, [Make.event("OrderPlaced", correlationID: "c1")])],
        [Make.write("user-1", .noStream, [Make.event("UserCreated", metadata: [MetadataEntry(key: "k", value: "v")], correlationID: "c1")])],
        [Make.write("order-2", .noStream, [Make.event("OrderPlaced", correlationID: "c2")])],
        [Make.write("order-1", .exact(0), [Make.event("OrderShipped", correlationID: "c1"), Make.event("OrderPaid")])],
        [
            Make.write("user-1", .any, [Make.event("UserRenamed")]),
            Make.write("order-2", .any, [Make.event("OrderShipped", correlationID: "c2")]),
        ],
        [Make.write("orderbook-1", .any, [Make.event("OrderPlaced"), Make.event("OrderPlaced", correlationID: "c1")])],
        [Make.write("order-1", .any, [Make.event("OrderShipped", metadata: [MetadataEntry(key: "a", value: "1"), MetadataEntry(key: "b", value: "")])])],
        [Make.write("user", .any, [Make.event("UserCreated", correlationID: "c2")])],
    ]

    /// Appends `appends` and returns the log as the model expects it.
    static func populate(_ store: EventStore) async throws -> [RecordedEvent] {
        var model = [RecordedEvent]()
        for var append in appends {
            for index in append.indices {
                for event in append[index].events.indices { append[index].events[event].id = .v7() }
            }
            let result = try await store.append(append)
            for (write, written) in zip(append, result.streams) {
                for (offset, event) in write.events.enumerated() {
                    model.append(RecordedEvent(
                        stream: write.stream, revision: written.firstRevision + UInt64(offset),
                        position: written.positions[offset], id: try #require(event.id),
                        type: event.type, data: event.data, contentType: event.contentType,
                        metadata: event.metadata, correlationID: event.correlationID,
                        causationID: event.causationID, timeMicros: result.commitTimeMicros))
                }
            }
        }
        return model.sorted { $0.position < $1.position }
    }

    static func expected(_ request: ReadRequest, in model: [RecordedEvent]) -> [RecordedEvent] {
        let visible = request.asOfPosition ?? UInt64.max
        var events = model.filter { event in
            guard event.position <= visible else { return false }
            switch request.selector {
            case .stream(let name): return event.stream == name
            case .all: return true
            case .category(let name): return event.stream.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) == name
            case .eventType(let name): return event.type == name
            case .correlationID(let id): return event.correlationID == id
            }
        }
        if let filter = request.filter {
            events = events.filter {
                (filter.eventTypes.isEmpty || filter.eventTypes.contains($0.type))
                    && $0.stream.hasPrefix(filter.streamPrefix)
            }
        }
        switch (request.direction, request.start) {
        case (.forwards, .start): break
        case (.forwards, .end), (.backwards, .start): events = []
        case (.forwards, .revision(let revision)): events = events.filter { $0.revision >= revision }
        case (.forwards, .position(let position)): events = events.filter { $0.position >= position }
        case (.backwards, .end): events.reverse()
        case (.backwards, .revision(let revision)): events = events.filter { $0.revision <= revision }.reversed()
        case (.backwards, .position(let position)): events = events.filter { $0.position <= position }.reversed()
        }
        return Array(events.prefix(request.limit))
    }

    static let selectors: [Selector] = [
        .stream("order-1"), .stream("user-1"), .stream("user"), .all, .category("order"), .category("user"),
        .category("nope"), .eventType("OrderPlaced"), .eventType("Nope"), .correlationID("c1"), .correlationID("c2"),
    ]
    static let positionStarts: [ReadStart] = [.start, .end, .position(0), .position(1), .position(4), .position(7), .position(8), .position(12), .position(100)]
    static let revisionStarts: [ReadStart] = [.revision(0), .revision(1), .revision(3), .revision(50)]
    static let filters: [ReadFilter?] = [
        nil, ReadFilter(), ReadFilter(eventTypes: ["OrderShipped", "UserCreated"]), ReadFilter(streamPrefix: "order-"),
        ReadFilter(eventTypes: ["OrderPlaced"], streamPrefix: "orderb"), ReadFilter(eventTypes: ["Nope"]),
    ]

    /// Index batch thresholds and where they leave the indexed part of the 11-event
    /// log: all of it, up to 7 (so reads straddle the boundary), none of it.
    static let indexings: [(batchEvents: Int, indexedUpTo: UInt64)] = [(1, 11), (6, 7), (.max, 0)]

    @Test(arguments: selectors, indexings)
    func readMatchesModel(selector: Selector, indexing: (batchEvents: Int, indexedUpTo: UInt64)) async throws {
        // Where a batch threshold leaves the boundary depends on how commits group, which
        // the log engine's indexer decides by timing: the mid-log boundary is pinned on the
        // SQLite engine (the differential tests straddle the log engine's boundaries).
        let engine = indexing.indexedUpTo > 0 && indexing.indexedUpTo < 11 ? .sqlite : StoreFixture.engine
        try await StoreFixture.withStore(indexing: .pinned(batchEvents: indexing.batchEvents), engine: engine) { store in
            let model = try await Self.populate(store)
            #expect(try await IndexingPolicy.settledIndexedUpTo(store, expecting: indexing.indexedUpTo) == indexing.indexedUpTo)
            var starts = Self.positionStarts
            if case .stream = selector { starts += Self.revisionStarts }
            var checked = 0
            for start in starts {
                for direction in [ReadDirection.forwards, .backwards] {
                    for limit in [1, 3, 100] {
                        for asOf in [nil, 5, 0, 8] as [UInt64?] {
                            for filter in Self.filters {
                                let request = ReadRequest(
                                    selector: selector, start: start, direction: direction, limit: limit,
                                    filter: filter, asOfPosition: asOf)
                                let read = try store.read(request)
                                #expect(read == Self.expected(request, in: model), "\(request)")
                                checked += read.count
                            }
                        }
                    }
                }
            }
            #expect(checked > 0 || selector == .category("nope") || selector == .eventType("Nope"))
        }
    }

    @Test func everyFieldRoundTrips() async throws {
        try await StoreFixture.withStore { store in
            let id = EventID.v7()
            let event = ProposedEvent(
                id: id, type: "Ünïcode-Type", data: [0, 1, 2, 255, 0], contentType: "application/octet-stream",
                metadata: [MetadataEntry(key: "trace", value: "ab-12"), MetadataEntry(key: "é", value: "ü\u{1F600}")],
                correlationID: "corr", causationID: "cause")
            let result = try await store.append([Make.write("item-7", .noStream, [event])])
            let read = try store.read(ReadRequest(selector: .stream("item-7"), limit: 1))
            #expect(read == [
                RecordedEvent(
                    stream: "item-7", revision: 0, position: 1, id: id, type: "Ünïcode-Type", data: [0, 1, 2, 255, 0],
                    contentType: "application/octet-stream", metadata: event.metadata, correlationID: "corr",
                    causationID: "cause", timeMicros: result.commitTimeMicros)
            ])
        }
    }

    @Test func pagingCoversTheLogOnceInEachDirection() async throws {
        try await StoreFixture.withStore { store in
            let model = try await Self.populate(store)
            var forwards = [RecordedEvent]()
            var start = ReadStart.start
            while case let batch = try store.read(ReadRequest(selector: .all, start: start, limit: 3)), let last = batch.last {
                forwards += batch
                start = .position(last.position + 1)
            }
            var backwards = [RecordedEvent]()
            start = .end
            while case let batch = try store.read(ReadRequest(selector: .all, start: start, direction: .backwards, limit: 3)),
                  let last = batch.last, last.position > 0 {
                backwards += batch
                if last.position == 1 { break }
                start = .position(last.position - 1)
            }
            #expect(forwards == model)
            #expect(backwards == model.reversed())
        }
    }

    @Test func missingStreamIsNotFound() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(1))])
            let error = #expect(throws: StorageError.self) { try store.read(ReadRequest(selector: .stream("a-2"), limit: 1)) }
            #expect(error?.code == .notFound)
        }
    }

    static let invalidRequests: [ReadRequest] = [
        ReadRequest(selector: .all, limit: 0),
        ReadRequest(selector: .all, limit: StorageLimits.readBatchEventsMax + 1),
        ReadRequest(selector: .all, start: .revision(0), limit: 1),
        ReadRequest(selector: .category("a"), start: .revision(0), limit: 1),
        ReadRequest(selector: .correlationID(""), limit: 1),
        ReadRequest(selector: .all, limit: 1, filter: ReadFilter(eventTypes: Array(repeating: "t", count: StorageLimits.filterEventTypesMax + 1))),
    ]

    @Test(arguments: invalidRequests)
    func invalidRequestIsRefused(request: ReadRequest) async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(1))])
            let error = #expect(throws: StorageError.self) { try store.read(request) }
            #expect(error?.code == .invalidArgument)
        }
    }
}
