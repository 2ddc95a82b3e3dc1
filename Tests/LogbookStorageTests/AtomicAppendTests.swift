@testable internal import LogbookStorage
internal import Testing

/// An append naming several streams commits all of them or none, and malformed
/// appends are refused before they reach the writer.
@Suite struct AtomicAppendTests {
    @Test func oneBadExpectationWritesNothing() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("b-1", .any, Make.events(1))])
            let error = await #expect(throws: StorageError.self) {
                try await store.append([
                    Make.write("a-1", .noStream, Make.events(2)),
                    Make.write("b-1", .noStream, Make.events(1)),
                    Make.write("c-1", .any, Make.events(1)),
                ])
            }
            #expect(error?.detail == .wrongExpectedRevision(stream: "b-1", expected: .noStream, actual: 0))
            #expect(store.headPosition == 1)
            #expect(try store.streamRevision("a-1") == nil)
            #expect(try store.streamRevision("c-1") == nil)
            #expect(try Make.readAll(store).count == 1)
        }
    }

    /// A conflict in a later stream undoes what the append already did to earlier ones,
    /// on disk and in the cached heads that later expectations are checked against.
    @Test func conflictInLaterStreamRollsBackEarlierStreams() async throws {
        try await StoreFixture.withStore { store in
            let taken = Make.event(id: .v7())
            _ = try await store.append([Make.write("t", .any, [taken]), Make.write("a-1", .any, Make.events(1))])
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("a-1", .exact(0), Make.events(2)), Make.write("b-1", .any, [taken])])
            }
            #expect(error?.code == .eventIDConflict)
            #expect(try store.streamRevision("a-1") == 0)
            let next = try await store.append([Make.write("a-1", .exact(0), Make.events(1))])
            #expect(next.streams == [StreamWriteResult(stream: "a-1", firstRevision: 1, lastRevision: 1, positions: [3])])
            #expect(try Make.readStream(store, "a-1").map(\.revision) == [0, 1])
        }
    }

    @Test func streamsOfOneAppendTakeConsecutivePositions() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("x", .any, Make.events(1))])
            let result = try await store.append([
                Make.write("a-1", .noStream, Make.events(2)),
                Make.write("b-1", .noStream, Make.events(3)),
            ])
            #expect(result.streams == [
                StreamWriteResult(stream: "a-1", firstRevision: 0, lastRevision: 1, positions: [2, 3]),
                StreamWriteResult(stream: "b-1", firstRevision: 0, lastRevision: 2, positions: [4, 5, 6]),
            ])
            let all = try Make.readAll(store)
            #expect(all.map(\.position) == [1, 2, 3, 4, 5, 6])
            #expect(all.allSatisfy { $0.timeMicros == all[1].timeMicros || $0.position == 1 })
        }
    }

    static let malformed: [(String, [StreamWrite])] = [
        ("no streams", []),
        ("same stream twice", [Make.write("a", .any, Make.events(1)), Make.write("a", .any, Make.events(1))]),
        ("no events", [Make.write("a", .any, [])]),
        ("empty stream name", [Make.write("", .any, Make.events(1))]),
        ("reserved stream name", [Make.write("$all", .any, Make.events(1))]),
        ("NUL in stream name", [Make.write("a\u{0}b", .any, Make.events(1))]),
        ("empty event type", [Make.write("a", .any, [Make.event("")])]),
        ("over-long stream name", [Make.write(String(repeating: "s", count: StorageLimits.streamNameBytesMax + 1), .any, Make.events(1))]),
    ]

    @Test(arguments: malformed.indices)
    func malformedAppendIsInvalid(index: Int) async throws {
        let (name, writes) = Self.malformed[index]
        try await StoreFixture.withStore { store in
            let error = await #expect(throws: StorageError.self, "\(name)") { try await store.append(writes) }
            #expect(error?.code == .invalidArgument, "\(name)")
            #expect(store.headPosition == 0)
        }
    }

    @Test func categoryIsTheNameBeforeTheFirstDash() async throws {
        try await StoreFixture.withStore { store in
            _ = try await store.append([Make.write("order-1-a", .any, Make.events(1))])
            _ = try await store.append([Make.write("order", .any, Make.events(1))])
            _ = try await store.append([Make.write("orders-2", .any, Make.events(1))])
            let order = try store.read(ReadRequest(selector: .category("order"), limit: 10))
            #expect(order.map(\.stream) == ["order-1-a", "order"])
            let orders = try store.read(ReadRequest(selector: .category("orders"), limit: 10))
            #expect(orders.map(\.stream) == ["orders-2"])
        }
    }
}
