internal import Foundation
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// The README's example, as a user runs it: the `order-summaries` worker process, orders
/// appended with the CLI, and summaries queried with `--min-position`. The worker is
/// SIGKILLed mid-run and started again: every order is counted exactly once.
@Suite("The order-summaries example", .serialized, .blocksItsThread)
struct ExampleWorkerTests {
    /// Starts the `order-summaries` worker on `daemon` (BackupTests runs it too).
    static func startWorker(_ daemon: Daemon) throws -> Process {
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("order-summaries")
        process.arguments = ["--socket", daemon.socketPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static let customers = ["ann", "bob", "cy"]

    /// Order number `index`: whose it is and its total.
    private static func order(_ index: Int) -> (customer: String, total: Double) {
        (Self.customers[index % Self.customers.count], Double(index % 7) + 0.5)
    }

    private struct Summary: Equatable {
        var orders = 0
        var total = 0.0
    }

    /// Reads the view once it has processed position `last`, and checks it holds the
    /// summaries of orders 0..<`count`, each counted once.
    private static func expectSummaries(_ cli: CLI, after last: Int, orders count: Int) throws {
        var expected: [String: Summary] = [:]
        for index in 0..<count {
            let (customer, total) = Self.order(index)
            expected[customer, default: Summary()].orders += 1
            expected[customer, default: Summary()].total += total
        }
        let summaries = try cli.run(["query", "order_summaries", "--min-position", "\(last)", "--wait", "60000", "--json"])
        try #require(summaries.status == 0, "\(summaries.stderr)")
        var seen: [String: Summary] = [:]
        for row in try summaries.json() {
            let document = try #require(row["doc"] as? [String: Any])
            seen[try #require(row["key"] as? String)] = Summary(
                orders: try #require(document["orders"] as? Int), total: try #require(document["total"] as? Double)
            )
        }
        #expect(seen.keys.sorted() == Self.customers)
        for customer in Self.customers {
            #expect(seen[customer] == expected[customer], "\(customer)")
        }
    }

    @Test func summariesCountEveryOrderOnceAcrossAWorkerKill() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        var worker = try Self.startWorker(daemon)
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

        var last = 0
        for index in 0..<60 {
            if index == 30 {
                // Mid-run: the worker dies without warning, and a new one takes over.
                kill(worker.processIdentifier, SIGKILL)
                worker.waitUntilExit()
                worker = try Self.startWorker(daemon)
            }
            let (customer, total) = Self.order(index)
            let appended = try cli.run([
                "append", "order-\(index)", "--type", "OrderPlaced",
                "--data", #"{"customer":"\#(customer)","total":\#(total)}"#, "--json",
            ])
            try #require(appended.status == 0, "\(appended.stderr)")
            last = try #require((try appended.json().first?["positions"] as? [Any])?.last as? Int)
        }
        // An event the worker ignores moves nothing it has to wait for.
        _ = try cli.run(["append", "order-0", "--type", "OrderShipped", "--data", "{}"])

        try Self.expectSummaries(cli, after: last, orders: 60)
        let byIndex = try cli.run(["query", "order_summaries", "--where", "$.customer = bob", "--json"])
        #expect(try byIndex.json().map { $0["key"] as? String } == ["bob"])
    }

    /// The same example while the daemon restarts under it: a clean stop (SIGTERM) and a crash
    /// (SIGKILL), each in the middle of the run, with appends going on. The worker process is
    /// never restarted: its subscription and the queries its handler makes reconnect by
    /// themselves, so no event is parked and every summary ends exact.
    @Test func summariesStayExactAcrossDaemonRestarts() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        let worker = try Self.startWorker(daemon)
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

        let orders = 90
        // Appended by a script that retries an order until it is in: each order has its own
        // event id, so a retry of an append that committed before its answer was lost is
        // answered with the original position and adds nothing.
        let progress = Mutex((appended: 0, last: 0, failures: [String]()))
        let appender = Thread {
            for index in 0..<orders {
                let (customer, total) = Self.order(index)
                let id = UUID().uuidString
                var position: Int?
                for _ in 0..<600 where position == nil {
                    guard let result = try? cli.run([
                        "append", "order-\(index)", "--type", "OrderPlaced", "--id", id,
                        "--data", #"{"customer":"\#(customer)","total":\#(total)}"#, "--json",
                    ]) else { break }
                    if result.status == 0 {
                        position = (try? result.json().first?["positions"] as? [Any])?.last as? Int
                    } else {
                        usleep(50_000)  // the daemon is restarting: try again shortly
                    }
                }
                progress.withLock {
                    if let position {
                        $0.appended += 1
                        $0.last = max($0.last, position)
                    } else {
                        $0.failures.append("order-\(index) never appended")
                    }
                }
            }
        }
        appender.start()

        #expect(eventuallyBlocking { progress.withLock { $0.appended } >= 30 })
        #expect(daemon.stop(signal: SIGTERM) == 0, "a clean stop")
        try daemon.start()
        #expect(eventuallyBlocking { progress.withLock { $0.appended } >= 60 })
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        #expect(eventuallyBlocking(seconds: 120) { progress.withLock { $0.appended + $0.failures.count } == orders })
        let (appended, last, failures) = progress.withLock { ($0.appended, $0.last, $0.failures) }
        try #require(failures.isEmpty, "\(failures)")
        #expect(appended == orders)
        #expect(worker.isRunning, "the worker rode out both restarts")

        try Self.expectSummaries(cli, after: last, orders: orders)
        let group = try cli.run(["groups", "info", "order-summaries", "--json"])
        let info = try #require(try group.json().first)
        #expect(info["parked"] as? Int == 0, "nothing parked: \(group.stdout)")
        #expect(info["checkpoint"] as? Int == last, "the group settled every order")
    }
}
