internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// The README's example, as a user runs it: the `order-summaries` worker process, orders
/// appended with the CLI, and summaries queried with `--min-position`. The worker is
/// SIGKILLed mid-run and started again: every order is counted exactly once.
@Suite("The order-summaries example", .serialized)
struct ExampleWorkerTests {
    private static func startWorker(_ daemon: Daemon) throws -> Process {
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("order-summaries")
        process.arguments = ["--socket", daemon.socketPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func summariesCountEveryOrderOnceAcrossAWorkerKill() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        var worker = try Self.startWorker(daemon)
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

        let customers = ["ann", "bob", "cy"]
        var expected: [String: (orders: Int, total: Double)] = [:]
        var last = 0
        for index in 0..<60 {
            if index == 30 {
                // Mid-run: the worker dies without warning, and a new one takes over.
                kill(worker.processIdentifier, SIGKILL)
                worker.waitUntilExit()
                worker = try Self.startWorker(daemon)
            }
            let customer = customers[index % customers.count]
            let total = Double(index % 7) + 0.5
            let appended = try cli.run([
                "append", "order-\(index)", "--type", "OrderPlaced",
                "--data", #"{"customer":"\#(customer)","total":\#(total)}"#, "--json",
            ])
            try #require(appended.status == 0, "\(appended.stderr)")
            last = try #require((try appended.json().first?["positions"] as? [Any])?.last as? Int)
            expected[customer, default: (0, 0)].orders += 1
            expected[customer, default: (0, 0)].total += total
        }
        // An event the worker ignores moves nothing it has to wait for.
        _ = try cli.run(["append", "order-0", "--type", "OrderShipped", "--data", "{}"])

        let summaries = try cli.run(["query", "order_summaries", "--min-position", "\(last)", "--wait", "60000", "--json"])
        try #require(summaries.status == 0, "\(summaries.stderr)")
        var seen: [String: (orders: Int, total: Double)] = [:]
        for row in try summaries.json() {
            let document = try #require(row["doc"] as? [String: Any])
            seen[try #require(row["key"] as? String)] = (
                try #require(document["orders"] as? Int), try #require(document["total"] as? Double)
            )
        }
        #expect(seen.keys.sorted() == customers)
        for customer in customers {
            #expect(seen[customer]?.orders == expected[customer]?.orders, "\(customer)")
            #expect(seen[customer]?.total == expected[customer]?.total, "\(customer)")
        }
        let byIndex = try cli.run(["query", "order_summaries", "--where", "$.customer = bob", "--json"])
        #expect(try byIndex.json().map { $0["key"] as? String } == ["bob"])
    }
}
