internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// The event-id filter saved beside the log: a start reads it and adds only what came
/// after it, and idempotency stays exact whichever way the filter was made.
@Suite struct EventIDFilterFileTests {
    static func identified(_ count: Int) -> [ProposedEvent] {
        (0..<count).map { Make.event(data: "{\"n\":\($0)}", id: .v7()) }
    }

    static func filterPath(_ fixture: StoreFixture) -> String {
        fixture.directory + "/" + EventIDFilter.fileName
    }

    @Test func fileRoundTripsAndRefusesDamage() throws {
        var filter = EventIDFilter(expected: 1_000)
        let ids = EventIDFilterTests.ids(1_000, seed: 7, clocked: true)
        for id in ids { filter.insert(id) }
        let bytes = filter.encoded(coveredUpTo: 1_000, anchor: ids[999])
        let decoded = try #require(EventIDFilter.decode(bytes))
        #expect(decoded.coveredUpTo == 1_000)
        #expect(decoded.anchor == ids[999])
        #expect(decoded.filter.count == 1_000)
        #expect(decoded.filter.words == filter.words)
        #expect(ids.allSatisfy { decoded.filter.mightContain($0) })

        for offset in [0, 9, 33, 48, bytes.count / 2, bytes.count - 1] {
            var damaged = bytes
            damaged[offset] ^= 0x10
            #expect(EventIDFilter.decode(damaged) == nil, "a flipped byte at \(offset) went unnoticed")
        }
        #expect(EventIDFilter.decode(Array(bytes.dropLast(8))) == nil)
        #expect(EventIDFilter.decode([]) == nil)
    }

    /// A clean close saves the filter; the next start reads it, and a retried append of
    /// the first run is still recognised.
    @Test func reopenReadsTheSavedFilter() async throws {
        try await StoreFixture.with { fixture in
            let events = Self.identified(3)
            let store = try fixture.open(engine: .log)
            #expect(store.eventIDFilterRebuilt)
            let original = try await store.append([Make.write("a-1", .noStream, events)])
            await store.close()
            #expect(FileManager.default.fileExists(atPath: Self.filterPath(fixture)))

            let reopened = try fixture.open(engine: .log)
            #expect(!reopened.eventIDFilterRebuilt)
            #expect(try await reopened.append([Make.write("a-1", .noStream, events)]) == original)
            await #expect(throws: StorageError.self) {
                try await reopened.append([Make.write("b-1", .any, [events[1]])])
            }
            #expect(reopened.headPosition == 3)
            await reopened.close()
        }
    }

    /// A file saved before later commits (as after a crash): the start adds the ids
    /// committed after it, so their retries are still recognised.
    @Test func staleFileGainsTheLaterIDs() async throws {
        try await StoreFixture.with { fixture in
            let first = Self.identified(2)
            let later = Self.identified(2)
            let store = try fixture.open(engine: .log)
            _ = try await store.append([Make.write("a-1", .noStream, first)])
            await store.close()
            let stale = try Data(contentsOf: URL(fileURLWithPath: Self.filterPath(fixture)))

            let second = try fixture.open(engine: .log)
            let laterResult = try await second.append([Make.write("b-1", .noStream, later)])
            await second.close()
            try stale.write(to: URL(fileURLWithPath: Self.filterPath(fixture)))

            let reopened = try fixture.open(engine: .log)
            #expect(!reopened.eventIDFilterRebuilt)
            #expect(try await reopened.append([Make.write("b-1", .noStream, later)]) == laterResult)
            await #expect(throws: StorageError.self) {
                try await reopened.append([Make.write("c-1", .any, [later[0]])])
            }
            #expect(reopened.headPosition == 4)
            await reopened.close()
        }
    }

    /// A file that does not belong to this log (its anchor event differs), or that is
    /// damaged, is not used: the filter is rebuilt, and idempotency holds.
    @Test(arguments: ["foreign", "damaged"])
    func unsoundFileIsRebuilt(kind: String) async throws {
        try await StoreFixture.with { other in
            try await StoreFixture.with { fixture in
                let events = Self.identified(2)
                let store = try fixture.open(engine: .log)
                let original = try await store.append([Make.write("a-1", .noStream, events)])
                await store.close()
                let path = Self.filterPath(fixture)
                switch kind {
                case "foreign":
                    let foreign = try other.open(engine: .log)
                    _ = try await foreign.append([Make.write("x-1", .noStream, Self.identified(2))])
                    await foreign.close()
                    try FileManager.default.removeItem(atPath: path)
                    try FileManager.default.copyItem(atPath: Self.filterPath(other), toPath: path)
                default:
                    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                    bytes[bytes.count / 2] ^= 1
                    try Data(bytes).write(to: URL(fileURLWithPath: path))
                }

                let reopened = try fixture.open(engine: .log)
                #expect(reopened.eventIDFilterRebuilt)
                #expect(try await reopened.append([Make.write("a-1", .noStream, events)]) == original)
                #expect(reopened.headPosition == 2)
                await reopened.close()
            }
        }
    }
}
