internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// The log engine against the SQLite engine, the reference (DESIGN.md §4): the same
/// random workloads given to a store of each, with answers that must be the same.
///
/// Each test opens one store of each engine itself, so the suite runs in the default
/// storage test run only, not again in the one that `LOGBOOK_TEST_ENGINE=sqlite` selects.
/// A failure names its seed and step; `LOGBOOK_DIFF_SEEDS=<seed>` runs the tests with that
/// seed alone (a comma-separated list runs several: a longer hunt), and
/// `LOGBOOK_DIFF_STEPS=<n>` sets the steps of each phase of a random run.
@Suite(.disabled(if: StoreFixture.engine == .sqlite, "compares both engines whatever the test engine is"))
struct EngineDifferentialTests {
    static let seeds: [UInt64] = environment("LOGBOOK_DIFF_SEEDS").map { list in
        list.split(separator: ",").compactMap { seed in
            let seed = seed.trimmingCharacters(in: .whitespaces).lowercased()
            return seed.hasPrefix("0x") ? UInt64(seed.dropFirst(2), radix: 16) : UInt64(seed)
        }
    } ?? [1, 2, 3, 42, 2_026, 0x5EED, 0xC0FFEE, 0xDEAD_BEEF]

    static let stepsPerPhase = environment("LOGBOOK_DIFF_STEPS").flatMap { Int($0) } ?? 60

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Appends of every kind (fresh, every expected revision right and wrong, retries,
    /// reused ids, refusals), single and pipelined, reads of every selector, direction,
    /// start, limit, filter and `asOfPosition` with paging, through a stalled indexer,
    /// reopens, and a replay of the unstored tail at open.
    @Test(arguments: seeds)
    func randomWorkloadGetsTheSameAnswers(seed: UInt64) async throws {
        try await EnginePair.with { pair in
            let run = DifferentialRun(seed: seed, pools: .standard, pair: pair)
            try await run.run(stepsPerPhase: Self.stepsPerPhase)
            let counts = run.counts
            // The run reached what it is meant to compare.
            #expect(counts.appended > 20, "\(counts)")
            #expect(counts.replays > 0, "\(counts)")
            #expect(counts.conflicts > 0, "\(counts)")
            #expect(counts.wrongRevisions > 0, "\(counts)")
            #expect(counts.refusals > 0, "\(counts)")
            #expect(counts.pipelines > 0, "\(counts)")
            #expect(counts.tailReads > 0, "\(counts)")
            #expect(counts.replayedAtOpen > 0, "\(counts)")
            #expect(counts.reopens >= 2, "\(counts)")
            print("differential seed \(seed): \(counts)")
        }
    }

    /// The same with `SyncMode.full`: the log syncs every group commit rather than when
    /// its unsynced bytes reach the sync reach.
    @Test(arguments: seeds.prefix(2))
    func randomWorkloadWithFullSyncGetsTheSameAnswers(seed: UInt64) async throws {
        try await EnginePair.with(sync: .full) { pair in
            let run = DifferentialRun(seed: seed, pools: .standard, pair: pair)
            try await run.run(stepsPerPhase: Self.stepsPerPhase / 2)
            #expect(run.counts.appended > 20, "\(run.counts)")
            #expect(run.counts.tailReads > 0, "\(run.counts)")
            print("differential seed \(seed), full sync: \(run.counts)")
        }
    }

    /// Stream names (past the category), correlation and causation ids written in two
    /// canonically equivalent spellings: Swift's `String` takes one for the other, SQLite
    /// compares bytes, and the log engine must answer as the SQLite engine does.
    @Test(arguments: seeds.prefix(2))
    func equivalentStreamNamesGetTheSameAnswers(seed: UInt64) async throws {
        try await EnginePair.with { pair in
            let run = DifferentialRun(seed: seed, pools: .equivalentStreamNames, pair: pair)
            try await run.run(stepsPerPhase: Self.stepsPerPhase * 3 / 4)
            #expect(run.counts.appended > 20, "\(run.counts)")
            #expect(run.counts.tailReads > 0, "\(run.counts)")
            print("differential seed \(seed), equivalent stream names: \(run.counts)")
        }
    }

    /// Event types and categories written in two canonically equivalent spellings: both
    /// engines answer with the first one stored (`CanonicallyEquivalentNameTests` shows
    /// the smallest cases).
    @Test(arguments: seeds.prefix(2))
    func equivalentTypesAndCategoriesGetTheSameAnswers(seed: UInt64) async throws {
        try await EnginePair.with { pair in
            let run = DifferentialRun(seed: seed, pools: .equivalentTypesAndCategories, pair: pair)
            try await run.run(stepsPerPhase: Self.stepsPerPhase * 3 / 4)
        }
    }

    /// Tasks appending at once to each store (plain, optimistic with retries, and raced
    /// duplicates) while a reader follows `$all`: each store's log is valid and answers
    /// match it, and both stores hold the same events; the same after a reopen. With
    /// `stalled`, the log store's indexer stores nothing meanwhile, so its reader follows
    /// the tail and the reopen replays the whole run from the log.
    @Test(arguments: seeds.prefix(3), [false, true])
    func concurrentAppendsLeaveTheSameEvents(seed: UInt64, stalled: Bool) async throws {
        try await EnginePair.with { pair in
            let stall = stalled ? try IndexerStall(databasePath: pair.logDatabasePath) : nil
            do {
                let workload = ConcurrentWorkload(seed: seed, tasks: 4, appendsPerTask: 40)
                let (log, sqlite) = (pair.log, pair.sqlite)
                async let logAnswers = workload.run(on: log)
                async let sqliteAnswers = workload.run(on: sqlite)
                let answers = try await (log: logAnswers, sqlite: sqliteAnswers)
                if stalled { #expect(try stall?.storedHeadPosition() == 0 && pair.logHasTail) }

                let logEvents = try Self.checkLog(log, answers.log, workload)
                let sqliteEvents = try Self.checkLog(sqlite, answers.sqlite, workload)
                #expect(logEvents == sqliteEvents, "the same (stream, data) pairs in both stores")
                for stream in Set(logEvents.map(\.stream)) {
                    #expect(try log.streamRevision(stream) == sqlite.streamRevision(stream), "\(stream)")
                }

                let before = (log: try Make.readAll(log), sqlite: try Make.readAll(sqlite))
                await pair.close()
                try stall?.release()
                try pair.reopen()
                #expect(try Make.readAll(pair.log) == before.log)
                #expect(try Make.readAll(pair.sqlite) == before.sqlite)
            } catch {
                try? stall?.release()
                throw error
            }
        }
    }

    /// Checks one store's log after a concurrent run; returns its (stream, data) pairs, sorted.
    private static func checkLog(
        _ store: EventStore, _ answers: [Int: [AppendResult]], _ workload: ConcurrentWorkload
    ) throws -> [StreamData] {
        let all = try Make.readAll(store)
        try #require(all.map(\.position) == Make.positions(all.count), "positions 1…N without a gap or a repeat")
        #expect(store.headPosition == UInt64(all.count))
        var nextRevision = [String: UInt64]()
        for event in all {
            #expect(event.revision == nextRevision[event.stream, default: 0], "revisions of \(event.stream) in position order")
            nextRevision[event.stream] = event.revision + 1
        }
        for (stream, next) in nextRevision {
            #expect(try store.streamRevision(stream) == next - 1)
            #expect(try Make.readStream(store, stream) == all.filter { $0.stream == stream })
        }

        var planned = [Int: (ConcurrentWorkload.Planned, submissions: Int)]()
        for append in workload.scripts.joined() {
            planned[append.key, default: (append, 0)].submissions += 1
        }
        var written = 0
        for (key, (append, submissions)) in planned {
            let results = answers[key] ?? []
            try #require(results.count == submissions, "every submission answered")
            #expect(Set(results.map(\.commitTimeMicros)).count == 1, "a raced duplicate replays the original")
            #expect(results.allSatisfy { $0.streams == results[0].streams }, "a raced duplicate replays the original")
            for (write, result) in zip(append.writes, results[0].streams) {
                #expect(result.stream == write.stream)
                try #require(result.positions.count == write.events.count)
                for (offset, (event, position)) in zip(write.events, result.positions).enumerated() {
                    try #require((1...UInt64(all.count)).contains(position))
                    let stored = all[Int(position) - 1]
                    #expect(stored.stream == write.stream && stored.revision == result.firstRevision + UInt64(offset))
                    #expect(stored.id == event.id && stored.data == event.data && stored.type == event.type)
                }
                written += write.events.count
            }
        }
        #expect(written == all.count, "the log holds exactly the answered events")
        return all.map { StreamData(stream: $0.stream, data: $0.data) }.sorted()
    }

    struct StreamData: Comparable {
        var stream: String
        var data: [UInt8]

        static func < (left: StreamData, right: StreamData) -> Bool {
            (left.stream, String(decoding: left.data, as: UTF8.self)) < (right.stream, String(decoding: right.data, as: UTF8.self))
        }
    }
}
