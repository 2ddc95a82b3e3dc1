internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import PostgresNIO
internal import Testing

/// Two stores on one database, as two daemons on two hosts: the promises hold across them.
@Suite(.enabled(if: PostgresFixture.isAvailable && StoreFixture.engine != .sqlite, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster); runs once, in the default storage run"))
struct PostgresSharedStoreTests {
    /// Both stores race to extend one stream from the same revision, round after round:
    /// exactly one wins each round, the loser sees the winner's revision, and nothing is
    /// lost or written twice.
    @Test func expectedRevisionRaceHasOneWinnerPerRound() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            _ = try await first.append([Make.write("account-1", .noStream, Make.events(1))])
            var wins = [0, 0]
            for round in 0..<40 {
                let expected = ExpectedRevision.exact(UInt64(round))
                async let a = Result(awaiting: { try await first.append([Make.write("account-1", expected, Make.events(1))]) })
                async let b = Result(awaiting: { try await second.append([Make.write("account-1", expected, Make.events(1))]) })
                let results = await [a, b]
                let winners = results.indices.filter { if case .success = results[$0] { true } else { false } }
                #expect(winners.count == 1, "round \(round): \(results)")
                for index in results.indices where !winners.contains(index) {
                    guard case .failure(let error as StorageError) = results[index] else { continue }
                    #expect(error.detail == .wrongExpectedRevision(
                        stream: "account-1", expected: expected, actual: UInt64(round) + 1), "round \(round): \(error)")
                }
                for index in winners { wins[index] += 1 }
            }
            let events = try await first.read(ReadRequest(selector: .stream("account-1"), limit: 1_000))
            #expect(events.map(\.revision) == Array(0...40))
            #expect(wins.reduce(0, +) == 40)
        }
    }

    /// Appends from both stores at once get positions 1…N with none twice, every event
    /// where its reply said, and each store's head reaches N through the other's
    /// notifications.
    @Test func concurrentAppendsFromBothStoresGetOnePositionSequence() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for index in 0..<200 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask { try await store.append([Make.write("s-\(index % 7)", .any, Make.events(1 + index % 3))]) }
                }
                return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
            }
            let positions = results.flatMap { $0.streams.flatMap(\.positions) }.sorted()
            let count = positions.count
            #expect(positions == Make.positions(count))
            for store in [first, second] {
                for await head in store.headPositions() where head == UInt64(count) { break }
                #expect(store.headPosition == UInt64(count))
            }
            let all = try await second.readAll()
            #expect(all.map(\.position) == Make.positions(count))
            let times = all.map(\.timeMicros)
            #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "commit times never decrease")
            for result in results {
                for stream in result.streams {
                    let read = try await first.read(ReadRequest(
                        selector: .stream(stream.stream), start: .revision(stream.firstRevision),
                        limit: stream.positions.count))
                    #expect(read.map(\.position) == stream.positions)
                }
            }
        }
    }

    /// A retry on the other daemon of an append whose reply was lost answers with the
    /// original result and writes nothing; reusing one of its ids elsewhere is a conflict.
    @Test func idempotencyHoldsAcrossStores() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            let events = [Make.event(id: EventID(high: 7, low: 1)), Make.event(id: EventID(high: 7, low: 2))]
            let original = try await first.append([Make.write("order-1", .noStream, events)])
            let retry = try await second.append([Make.write("order-1", .noStream, events)])
            #expect(retry == original)
            #expect(try await second.readAll().count == 2)
            await #expect(throws: StorageError.self) {
                try await second.append([Make.write("order-2", .any, [events[0]])])
            }
            let error = await #expect(throws: StorageError.self) {
                try await first.append([Make.write("order-2", .any, [events[1]])])
            }
            #expect(error?.detail == .eventIDConflict(id: events[1].id!, stream: "order-1", revision: 1))
        }
    }

    /// A subscriber's wake-up on one store follows appends made on the other.
    @Test func headPositionsFollowTheOtherStoresCommits() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            var heads = second.headPositions().makeAsyncIterator()
            #expect(await heads.next() == 0)
            _ = try await first.append([Make.write("x-1", .any, Make.events(3))])
            var seen: UInt64 = 0
            while seen < 3, let head = await heads.next() { seen = head }
            #expect(seen == 3)
            #expect(try await second.read(ReadRequest(selector: .all, limit: 10)).count == 3)
        }
    }

    /// An atomic multi-stream append takes consecutive positions even while the other
    /// store appends.
    @Test func multiStreamAppendsAreConsecutiveUnderConcurrency() async throws {
        try await PostgresFixture.withTwoStores { first, second in
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        try await first.append([
                            Make.write("a-\(index)", .noStream, Make.events(2)), Make.write("b-\(index)", .noStream, Make.events(3)),
                        ])
                    }
                    group.addTask { try await second.append([Make.write("c-\(index % 3)", .any, Make.events(1))]) }
                }
                return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
            }
            for result in results where result.streams.count == 2 {
                let positions = result.streams.flatMap(\.positions)
                #expect(positions == Array(positions[0]..<(positions[0] + 5)))
            }
        }
    }

    /// A database written by a newer Logbook is refused, and left as it was.
    @Test func newerSchemaIsRefused() async throws {
        try await PostgresFixture.withDatabase { url in
            let store = try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
            await store.close()
            try await PostgresFixture.admin(url) { connection in
                try await connection.query("UPDATE logbook_schema SET version = 99", logger: StoreFixture.logger)
            }
            let error = await #expect(throws: StorageError.self) {
                try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
            }
            #expect(error?.code == .unsupportedSchema)
            #expect(error?.message.contains("99") == true)
        }
    }

    /// A daemon that cannot reach PostgreSQL says so and where.
    @Test func anUnreachableDatabaseFailsTheOpen() async throws {
        let url = try PostgresURL("postgresql:///nope?host=/nonexistent-logbook-dir&user=postgres")
        await #expect(throws: StorageError.self) {
            try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
        }
    }
}

extension Result where Failure == any Error {
    init(awaiting body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
