internal import Logbook
internal import Synchronization

extension LogbookCommand.Bench {
    /// Streams `bench drain` spreads its events over: its round-robin group does not order
    /// by stream, but the names keep a stream's events few, as in a real log.
    static let drainStreams = 100

    /// `bench drain`: appends `--events` events (in appends of up to 500) to this run's
    /// streams, then `--clients` consumers of a temporary round-robin group on `$all` from
    /// the first of them consume and ack them all; the rate counts events delivered and
    /// acked, from the group's creation until the last ack is confirmed on disk. Latency is
    /// from a delivery's arrival to its ack's confirmation. The peer is Redis
    /// `XREADGROUP COUNT 100` + `XACK` (`Benchmarks/redis_drain.py`).
    func runDrain(_ harness: BenchHarness) async throws -> BenchReport {
        let (consumers, total, run) = (self.clients, self.eventCount, BenchHarness.runID())
        let (prefix, name) = ("bench-\(run)-", "bench-\(run)")
        // Consumer i connects to the i-th socket in turn: this daemon's, then those of
        // `--consumers-socket`.
        let sockets = [harness.socketPath] + self.consumersSockets
        var clients: [LogbookClient] = []
        for index in 0..<consumers {
            clients += try await harness.connect(1, socketPath: sockets[index % sockets.count])
        }
        let admin = clients[0]
        let first = try await Self.appendBacklog(total, prefix: prefix, size: self.size, batch: self.batch ?? 500, via: clients)
        let started = ContinuousClock.now
        try await admin.createGroup(GroupSettings(
            name: name, selector: .all, start: .position(first), filter: ReadFilter(streamPrefix: prefix),
            strategy: .roundRobin, maxInFlight: Self.groupMaxInFlight
        ))
        harness.onCleanUp { try? await admin.deleteGroup(name) }
        let confirmed = Confirmed(total: total)
        let measured = try await withThrowingTaskGroup(of: Latencies.self) { group in
            for client in clients {
                let subscription = client.consume(group: name)
                group.addTask {
                    let latencies = Mutex(Latencies())
                    do {
                        for try await delivery in subscription {
                            let arrived = ContinuousClock.now
                            delivery.ack(whenSettled: { result in
                                guard case .success = result else { return }
                                latencies.withLock { $0.record(since: arrived) }
                                confirmed.add()
                            })
                            if confirmed.isComplete { break }
                        }
                    } catch is CancellationError {
                        // The run is over.
                    }
                    return latencies.withLock { $0 }
                }
            }
            try await confirmed.wait(timeout: .seconds(60) + .milliseconds(total / 5))
            let elapsed = ContinuousClock.now - started
            group.cancelAll()
            var sum = BenchHarness.Measured(count: total, elapsed: elapsed)
            while let latencies = try await group.next() { sum.latencies.add(latencies) }
            return sum
        }
        return BenchReport(
            workload: "drain",
            clients: consumers,
            measured: measured,
            detail: """
                \(self.size)-byte events over \(Self.drainStreams) streams, appended first, then delivered and \
                acked through a round-robin group
                """,
            latencyOf: "delivery→ack confirmed"
        )
    }

    /// Appends `total` events of `size` bytes over this run's streams, `batch` per append,
    /// and returns the position of the first.
    private static func appendBacklog(
        _ total: Int, prefix: String, size: Int, batch: Int, via clients: [LogbookClient]
    ) async throws -> UInt64 {
        let payload = BenchHarness.payload(size: size)
        var first = UInt64.max
        var appended = 0
        while appended < total {
            let count = min(batch, total - appended)
            let events = (0..<count).map { _ in EventData(type: "BenchEvent", data: payload) }
            let result = try await clients[appended / batch % clients.count].append(
                to: "\(prefix)\(appended / batch % Self.drainStreams)", events: events)
            first = min(first, result.positions.first ?? first)
            appended += count
        }
        return first
    }
}

/// Acks confirmed so far, and the wait for all of them.
private final class Confirmed: Sendable {
    private let total: Int
    private let count = Atomic<Int>(0)
    private let done: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    init(total: Int) {
        self.total = total
        (self.done, self.finish) = AsyncStream<Void>.makeStream()
    }

    var isComplete: Bool { self.count.load(ordering: .relaxed) >= self.total }

    func add() {
        if self.count.wrappingAdd(1, ordering: .relaxed).newValue == self.total { self.finish.yield() }
    }

    func wait(timeout: Duration) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in self.done { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let reached = try await group.next() ?? false
            group.cancelAll()
            guard reached else {
                throw LogbookError(code: .deadlineExceeded, message: "the consumers did not settle all \(self.total) events within \(timeout)")
            }
        }
    }
}
