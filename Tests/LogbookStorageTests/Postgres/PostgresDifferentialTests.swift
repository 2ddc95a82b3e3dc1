internal import Foundation
@testable internal import LogbookPostgres
@testable internal import LogbookStorage
internal import Testing

/// The PostgreSQL store against the SQLite engine, the reference (DESIGN.md §4, §10):
/// the same seeded random workloads as the engine differential run (appends of every
/// kind, single and pipelined into one transaction, reads of every selector, direction,
/// start, limit, filter and `asOfPosition`), every answer compared, with a reopen of the
/// PostgreSQL store between phases. `LOGBOOK_DIFF_SEEDS` chooses the seeds, as for the
/// engine differential run.
@Suite(.serialized, .enabled(if: PostgresFixture.isAvailable && StoreFixture.engine != .sqlite, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster); runs once, in the default storage run"))
struct PostgresDifferentialTests {
    @Test(arguments: EngineDifferentialTests.seeds)
    func randomWorkloadGetsTheSameAnswersAsSQLite(seed: UInt64) async throws {
        try await PostgresFixture.withDatabase { url in
            try await StoreFixture.with { fixture in
                let sqlite = try EventStore(
                    directory: fixture.directory, sync: .normal, logger: StoreFixture.logger, engine: .sqlite)
                let run = PostgresDifferentialRun(seed: seed, url: url, sqlite: sqlite)
                do {
                    try await run.run(stepsPerPhase: 80)
                } catch {
                    await run.close()
                    throw error
                }
                await run.close()
                let counts = run.counts
                #expect(counts.appended > 20, "\(counts)")
                #expect(counts.replays > 0, "\(counts)")
                #expect(counts.conflicts > 0, "\(counts)")
                #expect(counts.wrongRevisions > 0, "\(counts)")
                #expect(counts.refusals > 0, "\(counts)")
                #expect(counts.pipelines > 0, "\(counts)")
                #expect(counts.reads > 50, "\(counts)")
                print("postgres differential seed \(seed): \(counts)")
            }
        }
    }
}

/// One run: a workload given to a PostgreSQL store and a SQLite-engine store; stops at
/// the first difference, naming the seed and the step.
final class PostgresDifferentialRun {
    struct Counts: CustomStringConvertible {
        var appended = 0, replays = 0, conflicts = 0, wrongRevisions = 0, refusals = 0, pipelines = 0
        var reads = 0, readEvents = 0, reopens = 0

        var description: String {
            """
            \(appended) appended, \(replays) replays, \(conflicts) id conflicts, \(wrongRevisions) wrong revisions, \
            \(refusals) refused, \(pipelines) pipelines; \(reads) reads returning \(readEvents) events; \(reopens) reopens
            """
        }
    }

    struct Divergence: Error {}

    let seed: UInt64
    let url: PostgresURL
    let sqlite: EventStore
    private var postgres: PostgresStore?
    private var workload: Workload
    private(set) var counts = Counts()
    private var step = 0

    init(seed: UInt64, url: PostgresURL, sqlite: EventStore) {
        self.seed = seed
        self.url = url
        self.sqlite = sqlite
        workload = Workload(seed: seed, pools: .standard)
    }

    func run(stepsPerPhase: Int) async throws {
        postgres = try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
        try await steps(stepsPerPhase)
        try await reopen()
        try await steps(stepsPerPhase)
        try await reopen()
    }

    func close() async {
        await postgres?.close()
        await sqlite.close()
    }

    private var store: PostgresStore { postgres! }

    private func steps(_ count: Int) async throws {
        for _ in 0..<count {
            step += 1
            switch workload.random.below(100) {
            case 0..<40: try await appendOne()
            case 40..<50: try await appendPipeline()
            default: try await readOne()
            }
        }
    }

    private func appendOne() async throws {
        let append = workload.append(heads: try heads())
        let postgres = await Self.result { try await self.store.append(append.writes) }
        let sqlite = await Self.result { try await self.sqlite.append(append.writes) }
        try await check([append], postgres: [postgres], sqlite: [sqlite])
    }

    private func appendPipeline() async throws {
        let appends = workload.pipeline(heads: try heads())
        let postgres = await store.pipelined(appends.map(\.writes))
        let sqlite = await EnginePair.pipelined(self.sqlite, appends.map(\.writes))
        counts.pipelines += 1
        try await check(appends, postgres: postgres, sqlite: sqlite)
    }

    private static func result(_ body: () async throws -> AppendResult) async -> Result<AppendResult, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    private func check(
        _ appends: [Workload.Append], postgres: [Result<AppendResult, any Error>], sqlite: [Result<AppendResult, any Error>]
    ) async throws {
        for (index, append) in appends.enumerated() {
            let outcome = AppendOutcome(sqlite[index])
            try same(AppendOutcome(postgres[index]), outcome, "append \(index + 1) of \(appends.count), \(append.kind): \(append.writes)")
            switch outcome.code {
            case nil: break
            case .eventIDConflict?: counts.conflicts += 1
            case .wrongExpectedRevision?: counts.wrongRevisions += 1
            case .invalidArgument?: counts.refusals += 1
            case let code?: try fail("append failed with \(code) in both stores: \(outcome)")
            }
            switch append.kind {
            case .fresh:
                if case .success(let postgres) = postgres[index], case .success(let sqlite) = sqlite[index] {
                    counts.appended += 1
                    workload.history.append(Workload.Original(writes: append.writes, log: postgres, sqlite: sqlite))
                }
            case .retry(let original, let writes):
                let original = workload.history[original].log
                let expected = AppendResult(streams: writes.map { original.streams[$0] }, commitTimeMicros: original.commitTimeMicros)
                guard case .success(let replay) = postgres[index], replay == expected else {
                    try fail("PostgreSQL did not replay \(append.writes)\nanswered: \(postgres[index])\noriginal: \(expected)")
                }
                counts.replays += 1
            case .resend, .conflicting, .refused:
                break
            }
        }
        try await compareHeads()
    }

    private func readOne() async throws {
        let request = workload.read(headPosition: sqlite.headPosition, heads: try heads())
        let postgres = await ReadOutcome.of { try await self.store.read(request) }
        let sqlite = ReadOutcome { try self.sqlite.read(request) }
        guard postgres == sqlite else { try fail("\(request)\n" + ReadOutcome.difference(postgres, sqlite)) }
        counts.reads += 1
        counts.readEvents += postgres.events.count
    }

    private func heads() throws -> [String: UInt64] {
        var heads = [String: UInt64]()
        for stream in workload.pools.streams {
            heads[stream] = try sqlite.streamRevision(stream)
        }
        return heads
    }

    private func compareHeads() async throws {
        try same(store.headPosition, sqlite.headPosition, "head position")
        for stream in workload.pools.streams + ["never-written"] {
            try same(try await store.streamRevision(stream), try sqlite.streamRevision(stream), "revision of '\(stream)'")
        }
    }

    /// Closes and opens the PostgreSQL store, then compares the whole log and its order.
    private func reopen() async throws {
        await store.close()
        postgres = try await PostgresStore.open(url, logger: StoreFixture.logger, readConnections: 2)
        counts.reopens += 1
        try await compareHeads()
        let postgres = await ReadOutcome.of { try await self.store.readAll() }
        let sqlite = ReadOutcome { try Make.readAll(self.sqlite) }
        guard postgres == sqlite else { try fail("the whole log\n" + ReadOutcome.difference(postgres, sqlite)) }
        try same(postgres.events.map(\.position), Make.positions(Int(self.sqlite.headPosition)), "positions of the whole log")
        let times = try await store.readAll().map(\.timeMicros)
        if let drop = times.indices.dropFirst().first(where: { times[$0 - 1] > times[$0] }) {
            try fail("PostgreSQL's commit time decreases at position \(drop + 1)")
        }
    }

    private func same<T: Equatable>(_ postgres: T, _ sqlite: T, _ what: @autoclosure () -> String) throws {
        guard postgres != sqlite else { return }
        try fail("\(what())\nPostgreSQL:    \(postgres)\nSQLite engine: \(sqlite)")
    }

    private func fail(_ message: String) throws -> Never {
        Issue.record(Comment(rawValue: "seed \(seed), step \(step): \(message)"))
        throw Divergence()
    }
}
