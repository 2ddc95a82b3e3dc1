@testable internal import LogbookStorage
internal import Testing

/// Deletes, tombstones and bounds in a real store (issue 16): reads by every selector,
/// direction and limit against a model that drops the hidden events, before and after
/// the store is reopened, on the engine under test.
@Suite struct StreamLifecycleStoreTests {
    /// What the model hides: per stream, the rules as plain numbers.
    struct Hidden {
        var deleted: Set<String> = []
        /// Those of `deleted` that were deleted for good.
        var tombstoned: Set<String> = []
        var visibleFrom: [String: UInt64] = [:]
        var maxCount: [String: UInt64] = [:]

        func admits(_ event: RecordedEvent, lastRevision: UInt64) -> Bool {
            if deleted.contains(event.stream) { return false }
            if let from = visibleFrom[event.stream], event.revision < from { return false }
            if let count = maxCount[event.stream], lastRevision >= count, event.revision <= lastRevision - count { return false }
            return true
        }
    }

    static func visible(_ model: [RecordedEvent], _ hidden: Hidden) -> [RecordedEvent] {
        var last = [String: UInt64]()
        for event in model { last[event.stream] = max(last[event.stream] ?? 0, event.revision) }
        return model.filter { hidden.admits($0, lastRevision: last[$0.stream]!) }
    }

    static let selectors: [Selector] = [
        .stream("order-1"), .stream("order-2"), .stream("user-1"), .stream("user"), .all, .category("order"),
        .category("user"), .eventType("OrderPlaced"), .eventType("OrderShipped"), .correlationID("c1"), .correlationID("c2"),
    ]

    /// Every read of `selectors` (both directions, several starts and limits, with and
    /// without a filter) matches the model; a deleted stream reads as not found.
    static func checkReads(_ store: EventStore, _ model: [RecordedEvent], _ hidden: Hidden) throws {
        let visible = Self.visible(model, hidden)
        for selector in selectors {
            var starts: [ReadStart] = [.start, .end, .position(3), .position(9)]
            if case .stream(let name) = selector {
                starts += [.revision(0), .revision(2), .revision(4)]
                if hidden.deleted.contains(name) {
                    let error = #expect(throws: StorageError.self) { try store.read(ReadRequest(selector: selector, limit: 5)) }
                    #expect(error?.code == .notFound)
                    #expect(error?.detail == .streamDeleted(stream: name, hard: hidden.tombstoned.contains(name)))
                    continue
                }
            }
            for start in starts {
                for direction in [ReadDirection.forwards, .backwards] {
                    for limit in [1, 2, 100] {
                        for filter in [nil, ReadFilter(streamPrefix: "order-")] as [ReadFilter?] {
                            let request = ReadRequest(selector: selector, start: start, direction: direction, limit: limit, filter: filter)
                            #expect(try store.read(request) == ReadTests.expected(request, in: visible), "\(request)")
                        }
                    }
                }
            }
            // Paging one at a time from the first event finds them all: a batch that
            // came back short would end it early.
            if selector == .all {
                var found = [RecordedEvent]()
                var next = ReadStart.start
                while let event = try store.read(ReadRequest(selector: .all, start: next, limit: 1)).first {
                    found.append(event)
                    next = .position(event.position + 1)
                }
                #expect(found == visible)
            }
        }
    }

    @Test func deletesTombstonesAndBoundsHideEventsFromEveryRead() async throws {
        try await StoreFixture.with { fixture in
            var store = try fixture.open()
            var model = try await ReadTests.populate(store)
            var hidden = Hidden()
            try Self.checkReads(store, model, hidden)

            // order-1 had revisions 0...3: a soft delete hides them all.
            let deleted = try await store.deleteStream("order-1", expected: .exact(3), hard: false)
            #expect(deleted.isDeleted && deleted.lastRevision == 3)
            hidden.deleted.insert("order-1")
            try Self.checkReads(store, model, hidden)

            // An old expected revision never matches again; no_stream recreates it.
            let stale = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("order-1", .exact(3), Make.events(1))])
            }
            #expect(stale?.detail == .wrongExpectedRevision(stream: "order-1", expected: .exact(3), actual: nil))
            let recreated = try await store.append([Make.write("order-1", .noStream, [Make.event("OrderPlaced", correlationID: "c1")])])
            #expect(recreated.streams[0].firstRevision == 4)
            model += try Self.recorded(store, recreated)
            hidden.deleted.remove("order-1")
            hidden.visibleFrom["order-1"] = 4
            try Self.checkReads(store, model, hidden)

            // user-1 is tombstoned: never written again.
            _ = try await store.deleteStream("user-1", expected: .any, hard: true)
            hidden.deleted.insert("user-1")
            hidden.tombstoned.insert("user-1")
            let refused = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("user-1", .any, Make.events(1))])
            }
            #expect(refused?.code == .failedPrecondition)
            #expect(refused?.detail == .streamDeleted(stream: "user-1", hard: true))
            await #expect(throws: StorageError.self) { try await store.deleteStream("user-1", expected: .any, hard: false) }
            // $streams names it as deleted; order-1, recreated, is not.
            let streams = try SystemViewTests.all(store, "$streams")
            #expect(streams.first { $0.key == "user-1" }?.json.hasSuffix(#""deleted":true,"tombstoned":true}"#) == true)
            #expect(streams.first { $0.key == "order-1" }?.json.hasSuffix(#""deleted":false,"tombstoned":false}"#) == true)
            #expect(streams.first { $0.key == "user" }?.json.contains("deleted") == false)

            // order-2 keeps its newest event only; orderbook-1 drops revision 0.
            _ = try await store.setStreamBounds("order-2", StreamLifecycle.Bounds(maxCount: 1))
            _ = try await store.setStreamBounds("orderbook-1", StreamLifecycle.Bounds(truncateBefore: 1))
            hidden.maxCount["order-2"] = 1
            hidden.visibleFrom["orderbook-1"] = 1
            try Self.checkReads(store, model, hidden)

            // A new event in a bounded stream pushes the older one out at once.
            let more = try await store.append([Make.write("order-2", .any, [Make.event("OrderShipped", correlationID: "c2")])])
            model += try Self.recorded(store, more)
            try Self.checkReads(store, model, hidden)

            // The rules survive a restart.
            await store.close()
            store = try fixture.open()
            try Self.checkReads(store, model, hidden)
            #expect(try store.streamLifecycle("order-1").lastRevision == 4)
            #expect(try store.streamLifecycle("user-1").isTombstoned)
            #expect(try store.streamLifecycle("order-2").maxCount == 1)
            await #expect(throws: StorageError.self) { try await store.append([Make.write("user-1", .any, Make.events(1))]) }

            // Clearing the bounds shows the events again; a soft delete's do not come back.
            _ = try await store.setStreamBounds("order-2", StreamLifecycle.Bounds())
            _ = try await store.setStreamBounds("order-1", StreamLifecycle.Bounds())
            hidden.maxCount["order-2"] = nil
            try Self.checkReads(store, model, hidden)
            await store.close()
        }
    }

    @Test func maxAgeHidesOlderEvents() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("a-1", .any, Make.events(3))])
            _ = try await store.setStreamBounds("a-1", StreamLifecycle.Bounds(maxAgeMicros: 3_600_000_000))
            #expect(try Make.readStream(store, "a-1").count == 3)
            try await Task.sleep(for: .milliseconds(1_200))
            _ = try await store.setStreamBounds("a-1", StreamLifecycle.Bounds(maxAgeMicros: 1_000_000))
            #expect(try Make.readStream(store, "a-1").isEmpty)
            #expect(try store.read(ReadRequest(selector: .all, limit: 10)).isEmpty)
            // Lifted again, they come back (only the older side of the bound is certain in
            // time: a loaded machine may take long to commit a new event).
            _ = try await store.setStreamBounds("a-1", StreamLifecycle.Bounds(maxAgeMicros: 3_600_000_000))
            #expect(try Make.readStream(store, "a-1").map(\.revision) == [0, 1, 2])
        }
    }

    @Test func deletingANeverWrittenStreamHidesNothingAndAllowsItsCreation() async throws {
        try await StoreFixture.withStore { store in
            await #expect(throws: StorageError.self) { try await store.deleteStream("a-1", expected: .streamExists, hard: false) }
            let deleted = try await store.deleteStream("a-1", expected: .noStream, hard: false)
            #expect(deleted.isDeleted && deleted.lastRevision == nil)
            let error = #expect(throws: StorageError.self) { try Make.readStream(store, "a-1") }
            #expect(error?.code == .notFound)
            let created = try await store.append([Make.write("a-1", .noStream, Make.events(2))])
            #expect(created.streams[0].firstRevision == 0)
            #expect(try Make.readStream(store, "a-1").count == 2)
        }
    }

    /// The events an append wrote, as a read returns them.
    static func recorded(_ store: EventStore, _ result: AppendResult) throws -> [RecordedEvent] {
        try result.streams.flatMap(\.positions).map { position in
            try #require(store.read(ReadRequest(selector: .all, start: .position(position), limit: 1)).first)
        }
    }
}
