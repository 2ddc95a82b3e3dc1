@testable internal import LogbookStorage
internal import Testing

/// One differential run: a seeded random workload given to a log-engine store and a
/// SQLite-engine store, every answer of the one compared with the other's.
///
/// The run goes through phases that cover the log engine's own paths: plain (the
/// indexer a moment behind), with the indexer stalled (reads from the in-memory tail),
/// after a reopen, stalled again and closed while stalled (the next open replays the
/// unstored tail from the log), and on after that replay. It stops at the first
/// difference, since everything after it would differ too; the message names the seed
/// and the step, and the same seed replays the same run.
final class DifferentialRun {
    /// What the run compared, for the test's own checks and its report.
    struct Counts: CustomStringConvertible {
        var appends = 0
        var appended = 0
        var replays = 0
        var conflicts = 0
        var wrongRevisions = 0
        var refusals = 0
        var pipelines = 0
        var reads = 0
        var readEvents = 0
        /// Reads made while the log store had events only its tail held.
        var tailReads = 0
        var reopens = 0
        /// Events the log store replayed from the log at an open.
        var replayedAtOpen: UInt64 = 0
        var events: UInt64 = 0

        var description: String {
            """
            \(appends) appends (\(appended) appended, \(replays) replays, \(conflicts) id conflicts, \
            \(wrongRevisions) wrong revisions, \(refusals) refused; \(pipelines) pipelines), \(events) events; \
            \(reads) reads returning \(readEvents) events, \(tailReads) of them with a tail; \(reopens) reopens \
            replaying \(replayedAtOpen) events
            """
        }
    }

    /// Thrown after the first difference is recorded as an issue.
    struct Divergence: Error, CustomStringConvertible {
        var description: String { "the stores diverged (the recorded issue says where); the run stopped there" }
    }

    let seed: UInt64
    let pair: EnginePair
    private var workload: Workload
    private(set) var counts = Counts()
    private var step = 0
    private var phase = "start"
    private var stall: IndexerStall?

    init(seed: UInt64, pools: Workload.Pools, pair: EnginePair) {
        self.seed = seed
        self.pair = pair
        workload = Workload(seed: seed, pools: pools)
    }

    /// The five phases of `steps` steps each, then a comparison of everything.
    func run(stepsPerPhase: Int) async throws {
        do {
            try await steps(stepsPerPhase, "plain")
            try startStall()
            try await steps(stepsPerPhase, "indexer stalled")
            try releaseStall()
            try await reopen()
            try await steps(stepsPerPhase, "after a reopen")
            try startStall()
            try await steps(stepsPerPhase, "indexer stalled again")
            try await reopen()
            try await steps(stepsPerPhase, "after replaying the tail at open")
            try compareEverything()
        } catch {
            try? releaseStall()
            throw error
        }
    }

    private func steps(_ count: Int, _ phase: String) async throws {
        self.phase = phase
        for _ in 0..<count {
            step += 1
            switch workload.random.below(100) {
            case 0..<40:
                try await appendOne()
            case 40..<50:
                try await appendPipeline()
            case 50..<99:
                try readOne()
            default:
                // A stalled phase keeps its stall to the end.
                if stall == nil { try await reopen() }
            }
        }
    }

    // MARK: Appends

    private func appendOne() async throws {
        let append = workload.append(heads: try heads())
        let log = await Self.append(pair.log, append.writes)
        let sqlite = await Self.append(pair.sqlite, append.writes)
        try check([append], log: [log], sqlite: [sqlite])
        try afterAppends()
    }

    /// Appends queued together, so the log writer decides several in one group commit
    /// (against the commit's own heads and ids) where SQLite uses savepoints.
    private func appendPipeline() async throws {
        let appends = workload.pipeline(heads: try heads())
        let writes = appends.map(\.writes)
        let log = await EnginePair.pipelined(pair.log, writes)
        let sqlite = await EnginePair.pipelined(pair.sqlite, writes)
        counts.pipelines += 1
        try check(appends, log: log, sqlite: sqlite)
        try afterAppends()
    }

    private static func append(_ store: EventStore, _ writes: [StreamWrite]) async -> Result<AppendResult, any Error> {
        do {
            return .success(try await store.append(writes))
        } catch {
            return .failure(error)
        }
    }

    /// Heads agree after every append; half the time a read follows at once, while the
    /// log store's indexer is likely still behind.
    private func afterAppends() throws {
        try compareHeads()
        if workload.random.percent(50) { try readOne() }
    }

    private func check(
        _ appends: [Workload.Append], log: [Result<AppendResult, any Error>], sqlite: [Result<AppendResult, any Error>]
    ) throws {
        for (index, append) in appends.enumerated() {
            let outcome = AppendOutcome(sqlite[index])
            try same(AppendOutcome(log[index]), outcome, "append \(index + 1) of \(appends.count), \(append.kind): \(append.writes)")
            counts.appends += 1
            switch outcome.code {
            case nil: break
            case .eventIDConflict?: counts.conflicts += 1
            case .wrongExpectedRevision?: counts.wrongRevisions += 1
            case .invalidArgument?: counts.refusals += 1
            case let code?: try fail("append \(index + 1) failed with \(code) in both stores: \(outcome)")
            }
            switch append.kind {
            case .fresh:
                try remember(append, log[index], sqlite[index])
            case .retry(let original, let writes):
                let original = workload.history[original]
                try expectReplay(log[index], of: original.log, writes, "log engine", append)
                try expectReplay(sqlite[index], of: original.sqlite, writes, "SQLite engine", append)
            case .resend(let earlier):
                if case .success(let first) = log[earlier], case .success(let second) = sqlite[earlier] {
                    let all = Array(append.writes.indices)
                    try expectReplay(log[index], of: first, all, "log engine", append)
                    try expectReplay(sqlite[index], of: second, all, "SQLite engine", append)
                } else {
                    try remember(append, log[index], sqlite[index])
                }
            case .conflicting, .refused:
                // Either succeeding would mean a reused id was written twice.
                guard outcome.code != nil else { try fail("\(append.kind) append succeeded: \(append.writes) → \(outcome)") }
            }
        }
    }

    /// Keeps a newly written append to retry and to reuse ids from.
    private func remember(
        _ append: Workload.Append, _ log: Result<AppendResult, any Error>, _ sqlite: Result<AppendResult, any Error>
    ) throws {
        guard case .success(let log) = log, case .success(let sqlite) = sqlite else { return }
        counts.appended += 1
        counts.events += UInt64(append.writes.reduce(0) { $0 + $1.events.count })
        workload.history.append(Workload.Original(writes: append.writes, log: log, sqlite: sqlite))
    }

    /// A retry must answer with the original's streams (those it names, in its order)
    /// and the original's commit time, in each store on its own.
    private func expectReplay(
        _ result: Result<AppendResult, any Error>, of original: AppendResult, _ writes: [Int], _ engine: String,
        _ append: Workload.Append
    ) throws {
        let expected = AppendResult(streams: writes.map { original.streams[$0] }, commitTimeMicros: original.commitTimeMicros)
        guard case .success(let replay) = result, replay == expected else {
            try fail("the \(engine) did not replay \(append.writes)\nanswered: \(result)\noriginal: \(expected)")
        }
        if engine == "log engine" { counts.replays += 1 }
    }

    // MARK: Reads

    private func readOne() throws {
        let request = workload.read(headPosition: pair.sqlite.headPosition, heads: try heads())
        let pages = request.limit <= 8 && workload.random.percent(60) ? 400 : 1
        try read(request, pages: pages)
    }

    /// Reads `pages` batches, each starting after the last event of the one before, as
    /// a client pages.
    private func read(_ first: ReadRequest, pages: Int) throws {
        var request = first
        for page in 0..<pages {
            let headBefore = pair.log.headPosition
            let log = ReadOutcome { try pair.log.read(request) }
            // The snapshot the read took had events only the tail held.
            if pair.log.published.storedUpTo < headBefore { counts.tailReads += 1 }
            let sqlite = ReadOutcome { try pair.sqlite.read(request) }
            guard log == sqlite else {
                try fail("page \(page + 1) of \(request)\n" + ReadOutcome.difference(log, sqlite))
            }
            counts.reads += 1
            counts.readEvents += log.events.count
            guard log.events.count == request.limit, let last = log.events.last else { return }
            switch request.direction {
            case .forwards:
                request.start = .position(last.position + 1)
            case .backwards:
                guard last.position > 1 else { return }
                request.start = .position(last.position - 1)
            }
        }
    }

    // MARK: Heads, reopening, the whole log

    /// The reference store's heads of the pool's streams, for the workload's choices.
    private func heads() throws -> [String: UInt64] {
        var heads = [String: UInt64]()
        for stream in workload.pools.streams {
            heads[stream] = try pair.sqlite.streamRevision(stream)
        }
        return heads
    }

    private func compareHeads() throws {
        try same(pair.log.headPosition, pair.sqlite.headPosition, "head position")
        for stream in workload.pools.streams + ["never-written"] {
            try same(pair.log.streamRevision(stream), pair.sqlite.streamRevision(stream), "revision of '\(stream)'")
        }
    }

    private func startStall() throws {
        stall = try IndexerStall(databasePath: pair.logDatabasePath)
    }

    private func releaseStall() throws {
        try stall?.release()
        stall = nil
    }

    /// Closes and opens both stores. Closed during a stall, the log store leaves the
    /// events its indexer could not store for the next open to replay from the log.
    private func reopen() async throws {
        let stored = try stall?.storedHeadPosition()
        let head = pair.log.headPosition
        await pair.close()
        try releaseStall()
        try pair.reopen()
        counts.reopens += 1
        if let stored { counts.replayedAtOpen += head - stored }
        try compareEverything()
    }

    /// Heads, the whole log, and every stream read whole, compared; and in each store
    /// the contract's own invariants: positions 1…N, times that never decrease.
    private func compareEverything() throws {
        try compareHeads()
        let log = ReadOutcome { try Make.readAll(pair.log) }
        let sqlite = ReadOutcome { try Make.readAll(pair.sqlite) }
        guard log == sqlite else { try fail("the whole log\n" + ReadOutcome.difference(log, sqlite)) }
        try same(log.events.map(\.position), Make.positions(Int(pair.sqlite.headPosition)), "positions of the whole log")
        for (engine, store) in [("log engine", pair.log), ("SQLite engine", pair.sqlite)] {
            let times = try Make.readAll(store).map(\.timeMicros)
            if let drop = times.indices.dropFirst().first(where: { times[$0 - 1] > times[$0] }) {
                try fail("the \(engine)'s commit time decreases at position \(drop + 1)")
            }
        }
        for stream in workload.pools.streams {
            guard try pair.sqlite.streamRevision(stream) != nil else { continue }
            let request = ReadRequest(selector: .stream(stream), limit: StorageLimits.readBatchEventsMax)
            let log = ReadOutcome { try pair.log.read(request) }
            let sqlite = ReadOutcome { try pair.sqlite.read(request) }
            guard log == sqlite else { try fail("stream '\(stream)' read whole\n" + ReadOutcome.difference(log, sqlite)) }
        }
    }

    // MARK: Failing

    private func same<T: Equatable>(_ log: T, _ sqlite: T, _ what: @autoclosure () -> String) throws {
        guard log != sqlite else { return }
        try fail("\(what())\nlog engine:    \(log)\nSQLite engine: \(sqlite)")
    }

    private func fail(_ message: String) throws -> Never {
        Issue.record(Comment(rawValue: "seed \(seed), step \(step) (\(phase)): \(message)"))
        throw Divergence()
    }
}
