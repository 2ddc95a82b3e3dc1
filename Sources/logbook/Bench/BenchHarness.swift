internal import Logbook
internal import Synchronization

/// What every workload of `logbook bench` shares: the connections it opens, the clean-up
/// that runs whatever happens (temporary groups and views removed, workers stopped,
/// connections closed), the fan-out over clients, and the exit status a failure becomes.
final class BenchHarness: Sendable {
    /// What one fan-out over the clients measured.
    struct Measured: Sendable {
        var latencies = Latencies()
        /// What the clients counted (events or queries).
        var count = 0
        /// From the start until the last client finished.
        var elapsed = Duration.zero
        /// Each client's own rate (what it counted over the time it took), where clients
        /// had shares of the same work: how fairly the daemon served them.
        var clientRates: [Double] = []
        /// From each event's commit to its delivery, where a workload measures that too.
        var sinceCommit: Latencies?
    }

    let socketPath: String
    /// Whether each client's task prefers its connection's event loop.
    private let pinned: Bool
    private let cleanUps = Mutex<[@Sendable () async -> Void]>([])

    private init(socketPath: String, pinned: Bool) {
        self.socketPath = socketPath
        self.pinned = pinned
    }

    /// Runs a workload and cleans up after it, last registered first; a failure is
    /// reported and becomes the exit status DESIGN §9 asks for.
    static func run(
        socketPath: String, pinned: Bool, _ workload: (BenchHarness) async throws -> BenchReport
    ) async throws -> BenchReport {
        let harness = BenchHarness(socketPath: socketPath, pinned: pinned)
        return try await Terminal.run(reportingFor: socketPath) {
            try await workload(harness)
        } cleanUp: {
            await harness.cleanUp()
        }
    }

    /// Has `cleanUp` run when the workload ends, whatever happened.
    func onCleanUp(_ cleanUp: @escaping @Sendable () async -> Void) {
        self.cleanUps.withLock { $0.append(cleanUp) }
    }

    /// Opens `count` connections, each for one task; they are closed when the workload ends.
    func connect(_ count: Int, socketPath: String? = nil) async throws -> [LogbookClient] {
        var clients: [LogbookClient] = []
        for index in 0..<count {
            let client = try await LogbookClient.connect(
                socketPath: socketPath ?? self.socketPath, clientName: "logbook-bench-\(index)")
            self.onCleanUp { await client.close() }
            clients.append(client)
        }
        return clients
    }

    /// Runs `body` on every client at once, each with its share of `total` items (a range of
    /// their indices, the shares differing by one at most), and adds up what they measured.
    /// `body` returns how many items it counted.
    func eachClient(
        _ clients: [LogbookClient],
        sharing total: Int,
        _ body: @escaping @Sendable (_ index: Int, _ client: LogbookClient, _ share: Range<Int>, inout Latencies) async throws -> Int
    ) async throws -> Measured {
        let started = ContinuousClock.now
        var measured = try await withThrowingTaskGroup(of: Measured.self) { group in
            for (index, share) in Self.split(total, into: clients.count).enumerated() {
                let client = clients[index]
                // Each client's work runs on its connection's event loop, as a service
                    // that cares for latency would run it (`LogbookClient.executor`).
                group.addTask(executorPreference: self.pinned ? client.executor : nil) {
                    var latencies = Latencies()
                    let count = try await body(index, client, share, &latencies)
                    let seconds = (ContinuousClock.now - started).seconds
                    return Measured(latencies: latencies, count: count, clientRates: [seconds > 0 ? Double(count) / seconds : 0])
                }
            }
            var sum = Measured()
            for try await part in group {
                sum.latencies.add(part.latencies)
                sum.count += part.count
                sum.clientRates += part.clientRates
            }
            return sum
        }
        measured.elapsed = ContinuousClock.now - started
        return measured
    }

    private func cleanUp() async {
        for cleanUp in self.cleanUps.withLock({ $0.reversed() }) {
            await cleanUp()
        }
    }

    /// `total` items split into `parts` consecutive ranges whose sizes differ by one at most.
    static func split(_ total: Int, into parts: Int) -> [Range<Int>] {
        var start = 0
        return (0..<parts).map { part in
            let count = total / parts + (part < total % parts ? 1 : 0)
            defer { start += count }
            return start..<(start + count)
        }
    }

    /// `size` random printable bytes: an event's data.
    static func payload(size: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<size).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
    }

    /// A short random name for this run's streams, groups and views.
    static func runID() -> String {
        String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
