internal import LogbookStorage
internal import Testing

/// A retried append (same ids, same stream, same order) returns the original result
/// and writes nothing; an id reused anywhere else is a conflict.
@Suite struct IdempotencyTests {
    static func identified(_ count: Int) -> [ProposedEvent] {
        (0..<count).map { Make.event(data: "{\"n\":\($0)}", id: .v7()) }
    }

    @Test(arguments: [ExpectedRevision.any, .noStream, .exact(0)])
    func retryReturnsOriginalAndWritesNothing(expected: ExpectedRevision) async throws {
        try await StoreFixture.withStore { store in
            if expected == .exact(0) {
                _ = try await store.append([Make.write("order-1", .any, Make.events(1))])
            }
            _ = try await store.append([Make.write("other", .any, Make.events(2))])
            let events = Self.identified(3)
            let original = try await store.append([Make.write("order-1", expected, events)])
            _ = try await store.append([Make.write("other", .any, Make.events(1))])
            let head = store.headPosition
            let logBefore = try Make.readAll(store)

            let retried = try await store.append([Make.write("order-1", expected, events)])

            #expect(retried == original)
            #expect(store.headPosition == head)
            #expect(try Make.readAll(store) == logBefore)
        }
    }

    @Test func retryOfMultiStreamAppendIsAReplay() async throws {
        try await StoreFixture.withStore { store in
            let append = [
                Make.write("a-1", .noStream, Self.identified(2)),
                Make.write("b-1", .noStream, Self.identified(1)),
            ]
            let original = try await store.append(append)
            let head = store.headPosition
            #expect(try await store.append(append) == original)
            #expect(store.headPosition == head)
        }
    }

    /// Only some of the streams replayed: evaluated normally, so the reused ids conflict.
    @Test func partialMultiStreamReplayConflicts() async throws {
        try await StoreFixture.withStore { store in
            let events = Self.identified(2)
            let original = try await store.append([Make.write("a-1", .any, events)])
            let head = store.headPosition
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("a-1", .any, events), Make.write("b-1", .any, Self.identified(1))])
            }
            #expect(error?.code == .eventIDConflict)
            #expect(error?.detail == .eventIDConflict(id: events[0].id!, stream: "a-1", revision: original.streams[0].firstRevision))
            #expect(store.headPosition == head)
            #expect(try store.streamRevision("b-1") == nil)
        }
    }

    @Test func idReusedInAnotherStreamConflicts() async throws {
        try await StoreFixture.withStore { store in
            let events = Self.identified(2)
            _ = try await store.append([Make.write("a-1", .any, Make.events(1))])
            _ = try await store.append([Make.write("a-1", .any, events)])
            let head = store.headPosition
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("b-1", .any, [Make.event(), events[1]])])
            }
            #expect(error?.code == .eventIDConflict)
            #expect(error?.detail == .eventIDConflict(id: events[1].id!, stream: "a-1", revision: 2))
            #expect(store.headPosition == head)
            #expect(try store.streamRevision("b-1") == nil)
        }
    }

    /// Same stream, but not the same events in the same order: not a replay.
    @Test(arguments: [[1, 0], [0]] as [[Int]])
    func differentShapeInSameStreamConflicts(order: [Int]) async throws {
        try await StoreFixture.withStore { store in
            let events = Self.identified(2)
            _ = try await store.append([Make.write("a-1", .any, events)])
            let reordered = order.map { events[$0] } + (order.count == 1 ? [Make.event()] : [])
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("a-1", .any, reordered)])
            }
            #expect(error?.code == .eventIDConflict)
            #expect(store.headPosition == 2)
        }
    }

    @Test func duplicateIDInsideOneAppendIsInvalid() async throws {
        try await StoreFixture.withStore { store in
            let id = EventID.v7()
            let error = await #expect(throws: StorageError.self) {
                try await store.append([
                    Make.write("a-1", .any, [Make.event(id: id)]),
                    Make.write("b-1", .any, [Make.event(id: id)]),
                ])
            }
            #expect(error?.code == .invalidArgument)
            #expect(store.headPosition == 0)
        }
    }

    /// The event-id index is the memory of idempotency: it survives a restart.
    @Test func replayIsRecognisedAfterReopen() async throws {
        try await StoreFixture.with { fixture in
            let events = Self.identified(2)
            let store = try fixture.open()
            let original = try await store.append([Make.write("a-1", .noStream, events)])
            await store.close()

            let reopened = try fixture.open()
            let retried = try await reopened.append([Make.write("a-1", .noStream, events)])
            #expect(retried == original)
            #expect(reopened.headPosition == 2)
            await reopened.close()
        }
    }
}
