@testable internal import LogbookStorage
internal import Synchronization
internal import Testing

/// Several tasks appending to one store at once, drawn from a seed.
///
/// Which task's append lands first is up to the scheduler, so two stores given the same
/// scripts end with their events in different orders; what must hold in both is that
/// the outcome is a valid log (positions 1…N, each stream's revisions 0…k in position
/// order, every answer pointing at its own events) holding the same events.
struct ConcurrentWorkload: Sendable {
    /// One append a task makes. `optimistic` ones (one stream) read the head and expect
    /// exactly it, retrying on a wrong expected revision as a client would.
    struct Planned: Sendable {
        var key: Int
        var writes: [StreamWrite]
        var optimistic: Bool
    }

    /// What each task appends, in order. Some appends are in two tasks' scripts (same
    /// ids): the two submissions race, one writes and the other must replay it.
    let scripts: [[Planned]]

    init(seed: UInt64, tasks: Int, appendsPerTask: Int) {
        var random = SplitMix64(seed: seed)
        var scripts = [[Planned]](repeating: [], count: tasks)
        var key = 0
        for task in 0..<tasks {
            for index in 0..<appendsPerTask {
                let optimistic = random.percent(30)
                let pool = ["hot", "shared-1", "shared-2", "own-\(task)"]
                let streams = optimistic ? [random.pick(pool)] : random.distinct(random.int(in: 1...2), of: pool)
                let writes = streams.enumerated().map { offset, stream in
                    StreamWrite(stream: stream, expected: .any, events: (0..<random.int(in: 1...3)).map { event in
                        ProposedEvent(
                            id: random.eventID(), type: random.pick(["A", "B"]),
                            data: Array("t\(task)-a\(index)-s\(offset)-e\(event)".utf8),
                            correlationID: random.pick(["", "c1"]))
                    })
                }
                let planned = Planned(key: key, writes: writes, optimistic: optimistic)
                key += 1
                scripts[task].append(planned)
                if random.percent(10) {
                    let other = (task + 1 + random.below(tasks - 1)) % tasks
                    scripts[other].insert(planned, at: random.below(scripts[other].count + 1))
                }
            }
        }
        self.scripts = scripts
    }

    /// Runs every script on `store` at once, with a reader following `$all` meanwhile
    /// that requires each batch to continue the positions it has seen without a gap.
    /// Returns every answer by the planned append's key (two for a raced duplicate).
    func run(on store: EventStore) async throws -> [Int: [AppendResult]] {
        let appending = Flag()
        async let followed = Self.follow(store, while: appending)
        let answers: [Int: [AppendResult]]
        do {
            answers = try await withThrowingTaskGroup(of: [(Int, AppendResult)].self) { group in
                for script in scripts {
                    group.addTask {
                        var answers = [(Int, AppendResult)]()
                        for planned in script {
                            answers.append((planned.key, try await Self.append(planned, to: store)))
                        }
                        return answers
                    }
                }
                var answers = [Int: [AppendResult]]()
                for try await taskAnswers in group {
                    for (key, answer) in taskAnswers { answers[key, default: []].append(answer) }
                }
                return answers
            }
        } catch {
            appending.value.store(false, ordering: .releasing)
            _ = try? await followed
            throw error
        }
        appending.value.store(false, ordering: .releasing)
        let seen = try await followed
        #expect(seen == store.headPosition, "the follower saw every position up to the head")
        return answers
    }

    private static func append(_ planned: Planned, to store: EventStore) async throws -> AppendResult {
        guard planned.optimistic else { return try await store.append(planned.writes) }
        var write = planned.writes[0]
        for _ in 0..<10_000 {
            write.expected = try store.streamRevision(write.stream).map { .exact($0) } ?? .noStream
            do {
                return try await store.append([write])
            } catch let error as StorageError where error.code == .wrongExpectedRevision {
                await Task.yield()
            }
        }
        throw StorageError(code: .internalError, message: "an optimistic append lost 10,000 races in a row")
    }

    /// Reads `$all` forwards from where it left off until the appenders are done and it
    /// has caught up; returns the last position it saw.
    private static func follow(_ store: EventStore, while appending: Flag) async throws -> UInt64 {
        var seen: UInt64 = 0
        while true {
            let done = !appending.value.load(ordering: .acquiring)
            let batch = try store.read(ReadRequest(selector: .all, start: .position(seen + 1), limit: 64))
            let positions = batch.map(\.position)
            try #require(positions == (0..<UInt64(batch.count)).map { seen + 1 + $0 }, "after position \(seen)")
            seen += UInt64(batch.count)
            if batch.isEmpty {
                if done { return seen }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }
}

/// Whether the appenders are still at work, for the follower.
private final class Flag: Sendable {
    let value = Atomic(true)
}
