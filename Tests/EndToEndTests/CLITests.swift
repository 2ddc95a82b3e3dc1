internal import Foundation
internal import Testing

/// The `logbook` command line against a real daemon, as DESIGN §9 specifies it.
@Suite("CLI", .serialized, .blocksItsThread)
final class CLITests {
    let daemon: Daemon
    let cli: CLI

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
        self.cli = CLI(socketPath: self.daemon.socketPath)
    }

    /// order-1: OrderPlaced, OrderPaid; order-2: OrderPlaced; user-1: UserCreated ×2 (from stdin).
    private func seed() throws {
        let a = try self.cli.run(["append", "order-1", "--type", "OrderPlaced", "--data", #"{"n":1}"#, "--correlation", "c1", "--json"])
        #expect(a.status == 0, "\(a.stderr)")
        let appended = try #require(try a.json().first)
        #expect(appended["stream"] as? String == "order-1")
        #expect(appended["first_revision"] as? Int == 0)
        #expect(appended["last_revision"] as? Int == 0)
        #expect(appended["positions"] as? [Int] == [1])

        let b = try self.cli.run(["append", "order-1", "--type", "OrderPaid", "--data", #"{"n":2}"#, "--expect", "0", "--meta", "source=test", "--json"])
        #expect(b.status == 0, "\(b.stderr)")
        let c = try self.cli.run(["append", "order-2", "--type", "OrderPlaced", "--data", #"{"n":3}"#, "--expect", "no-stream", "--correlation", "c1"])
        #expect(c.status == 0, "\(c.stderr)")
        let lines = """
            {"type":"UserCreated","data":{"n":4,"name":"Zoë"}}
            {"type":"UserRenamed","data":{"n":5},"metadata":{"by":"admin"},"correlation_id":"c2"}
            """
        let d = try self.cli.run(["append", "user-1", "--json"], stdin: lines + "\n")
        #expect(d.status == 0, "\(d.stderr)")
        let batch = try #require(try d.json().first)
        #expect(batch["first_revision"] as? Int == 0)
        #expect(batch["last_revision"] as? Int == 1)
        #expect(batch["positions"] as? [Int] == [4, 5])
    }

    private func read(_ arguments: [String]) throws -> [[String: Any]] {
        let result = try self.cli.run(["read"] + arguments + ["--json"])
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try result.json()
    }

    private func numbers(_ events: [[String: Any]]) -> [Int] {
        events.compactMap { ($0["data"] as? [String: Any])?["n"] as? Int }
    }

    @Test func appendAndReadEverySelectorAndDirection() throws {
        try self.seed()

        let stream = try self.read(["order-1"])
        #expect(self.numbers(stream) == [1, 2])
        #expect(stream.map { $0["revision"] as? Int } == [0, 1])
        let first = try #require(stream.first)
        #expect(first["type"] as? String == "OrderPlaced")
        #expect(first["content_type"] as? String == "application/json")
        #expect(first["correlation_id"] as? String == "c1")
        #expect((first["id"] as? String)?.count == 36)
        #expect((first["time"] as? String)?.hasSuffix("Z") == true)
        #expect((stream[1]["metadata"] as? [String: String]) == ["source": "test"])

        #expect(self.numbers(try self.read(["order-1", "--backward"])) == [2, 1])
        #expect(self.numbers(try self.read(["order-1", "--from", "1"])) == [2])
        #expect(self.numbers(try self.read(["order-1", "--backward", "--from", "0"])) == [1])

        let all = try self.read(["--all"])
        #expect(all.map { $0["position"] as? Int } == [1, 2, 3, 4, 5])
        #expect(self.numbers(all) == [1, 2, 3, 4, 5])
        #expect(self.numbers(try self.read(["--all", "--backward"])) == [5, 4, 3, 2, 1])
        #expect(self.numbers(try self.read(["--all", "--from", "3"])) == [3, 4, 5])
        #expect(self.numbers(try self.read(["--all", "--backward", "--from", "3"])) == [3, 2, 1])
        #expect(self.numbers(try self.read(["--all", "--limit", "2"])) == [1, 2])
        #expect(self.numbers(try self.read(["--all", "--backward", "--limit", "2"])) == [5, 4])
        #expect(self.numbers(try self.read(["--all", "--as-of", "2"])) == [1, 2])

        #expect(self.numbers(try self.read(["--category", "order"])) == [1, 2, 3])
        #expect(self.numbers(try self.read(["--category", "order", "--backward"])) == [3, 2, 1])
        #expect(self.numbers(try self.read(["--type", "OrderPlaced"])) == [1, 3])
        #expect(self.numbers(try self.read(["--type", "OrderPlaced", "--backward"])) == [3, 1])
        #expect(self.numbers(try self.read(["--correlation", "c1"])) == [1, 3])
        #expect(self.numbers(try self.read(["--correlation", "c2", "--backward"])) == [5])

        let user = try self.read(["user-1"])
        #expect((user.first?["data"] as? [String: Any])?["name"] as? String == "Zoë")
        #expect(try self.read(["no-such-stream"]).isEmpty)
    }

    @Test func wrongExpectedRevisionExitsNineWithTheActualRevision() throws {
        try self.seed()
        let result = try self.cli.run(["append", "order-1", "--type", "OrderPaid", "--data", "{}", "--expect", "5"])
        #expect(result.status == 9)
        #expect(result.stderr.contains("actual 1"), "\(result.stderr)")
        let exists = try self.cli.run(["append", "order-1", "--type", "X", "--data", "{}", "--expect", "no-stream"])
        #expect(exists.status == 9)
        let missing = try self.cli.run(["append", "order-9", "--type", "X", "--data", "{}", "--expect", "exists"])
        #expect(missing.status == 9)
        #expect(self.numbers(try self.read(["order-1"])) == [1, 2], "nothing of a refused append is written")
    }

    @Test func binaryDataReadsBackAsBase64() throws {
        let path = self.daemon.directory.appendingPathComponent("event.json").path
        try Data(#"{"from":"file"}"#.utf8).write(to: URL(fileURLWithPath: path))
        let fromFile = try self.cli.run(["append", "file-1", "--type", "Loaded", "--data", "@" + path])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let read = try self.read(["file-1"])
        #expect((read.first?["data"] as? [String: Any])?["from"] as? String == "file")
    }

    @Test func usageAndConnectionErrors() throws {
        let badJSON = try self.cli.run(["append", "x-1", "--type", "T", "--data", "{not json"])
        #expect(badJSON.status == 64)
        let noSelector = try self.cli.run(["read"])
        #expect(noSelector.status == 64)
        let unreachable = try self.cli.run(["read", "--all", "--socket", "/tmp/no-such-logbook.sock"])
        #expect(unreachable.status == 14, "UNAVAILABLE")
        #expect(unreachable.stderr.contains("/tmp/no-such-logbook.sock"))
        let viaOption = try self.cli.run(["--socket", self.daemon.socketPath, "read", "--all"], environment: ["LOGBOOK_SOCKET": "/tmp/wrong.sock"])
        #expect(viaOption.status == 0, "--socket wins over $LOGBOOK_SOCKET: \(viaOption.stderr)")
    }

    @Test func benchRunsAndPrintsJSON() throws {
        let append = try self.cli.run(["bench", "append", "--clients", "4", "--events", "400", "--batch", "2", "--json"])
        #expect(append.status == 0, "\(append.stderr)")
        let summary = try #require(try append.json().first)
        #expect(summary["workload"] as? String == "append")
        #expect(summary["clients"] as? Int == 4)
        #expect(summary["events"] as? Int == 400)
        #expect((summary["events_per_second"] as? Double ?? 0) > 0)
        #expect(summary["p99_us"] != nil)
        let fairness = try #require(summary["fairness"] as? Double, "clients sharing the work report how alike they were served")
        #expect(fairness > 0 && fairness <= 1)
        let unpinned = try self.cli.run(["bench", "append", "--clients", "2", "--events", "100", "--unpinned", "--json"])
        #expect(unpinned.status == 0, "\(unpinned.stderr)")
        #expect(try unpinned.json().first?["events"] as? Int == 100)
        let read = try self.cli.run(["bench", "read", "--clients", "2", "--events", "400", "--json"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(try read.json().first?["workload"] as? String == "read")
        let drain = try self.cli.run(["bench", "drain", "--clients", "2", "--events", "300", "--batch", "7", "--json"])
        #expect(drain.status == 0, "\(drain.stderr)")
        let drained = try #require(try drain.json().first)
        #expect(drained["workload"] as? String == "drain")
        #expect(drained["events"] as? Int == 300)
        #expect((drained["events_per_second"] as? Double ?? 0) > 0)
        let groups = try self.cli.run(["groups", "list", "--json"])
        #expect(!groups.stdout.contains("bench-"), "the temporary group is deleted: \(groups.stdout)")
    }
}
