internal import LogbookStorage
internal import Testing

/// A full disk (simulated with `PRAGMA max_page_count`, so the SQLite engine's) fails appends with `.diskFull`
/// while the writer stays usable and reads keep working.
@Suite struct DiskFullTests {
    static func bigEvents(_ count: Int) -> [ProposedEvent] {
        (0..<count).map { _ in ProposedEvent(type: "Big", data: Array(repeating: 0x42, count: 3_000)) }
    }

    /// Appends until the first diskFull (bounded), returning how many events were written.
    static func fill(_ store: EventStore) async throws -> UInt64 {
        for index in 0..<500 {
            do {
                _ = try await store.append([Make.write("big-\(index % 3)", .any, bigEvents(1))])
            } catch let error as StorageError where error.code == .diskFull {
                return store.headPosition
            }
        }
        Issue.record("the page limit was never reached")
        return store.headPosition
    }

    @Test func diskFullFailsAppendsButNotReads() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open(sync: .full, maxPageCount: 80, engine: .sqlite)
            let written = try await Self.fill(store)
            #expect(written > 0)

            // big-0 is written before big-1 overflows: the abort must undo big-0 too.
            let error = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("big-0", .any, Make.events(1)), Make.write("big-1", .any, Self.bigEvents(20))])
            }
            #expect(error?.code == .diskFull)
            #expect(store.headPosition == written)
            let all = try Make.readAll(store)
            #expect(all.map(\.position) == Make.positions(Int(written)))
            #expect(all.allSatisfy { $0.data.count == 3_000 })

            // Not a fail-stop: the writer still answers, and the heads were rolled back
            // with the batch, so expectations still hold against what is on disk.
            let head = try #require(try store.streamRevision("big-0"))
            let again = await #expect(throws: StorageError.self) {
                try await store.append([Make.write("big-0", .exact(head), Self.bigEvents(20))])
            }
            #expect(again?.code == .diskFull)
            await store.close()

            let reopened = try fixture.open(engine: .sqlite)
            let next = try await reopened.append([Make.write("big-0", .exact(head), Self.bigEvents(20))])
            #expect(next.streams[0].positions.first == written + 1)
            await reopened.close()
        }
    }

    /// Every append of a batch that hits the limit fails together, none half-written.
    @Test func concurrentAppendsAtTheLimitFailCleanly() async throws {
        try await StoreFixture.withStore(maxPageCount: 80, engine: .sqlite) { store in
            let prefilled = 8
            for index in 0..<prefilled {
                _ = try await store.append([Make.write("s-\(index % 4)", .any, Self.bigEvents(1))])
            }
            let codes = await withTaskGroup(of: StorageError.Code?.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        do {
                            _ = try await store.append([Make.write("s-\(index % 4)", .any, Self.bigEvents(1))])
                            return nil
                        } catch {
                            return (error as? StorageError)?.code
                        }
                    }
                }
                return await group.reduce(into: [StorageError.Code?]()) { $0.append($1) }
            }
            let succeeded = codes.filter { $0 == nil }.count
            #expect(codes.allSatisfy { $0 == nil || $0 == .diskFull })
            #expect(codes.contains(.diskFull))
            #expect(store.headPosition == UInt64(prefilled + succeeded))
            let all = try Make.readAll(store)
            #expect(all.map(\.position) == Make.positions(prefilled + succeeded))
            for stream in 0..<4 {
                guard try store.streamRevision("s-\(stream)") != nil else { continue }
                let revisions = try Make.readStream(store, "s-\(stream)").map(\.revision)
                #expect(revisions == Array(0..<UInt64(revisions.count)))
            }
        }
    }
}
