internal import Foundation
internal import Logbook
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbook views`, `query`, `streams`, `stats`, `read --as-of-time` and
/// `groups reset --clear-views` against the real daemon (DESIGN §6 and §9). The view's
/// documents are written by a ProjectionWorker in the test, through its acks.
@Suite("Views and queries from the CLI", .serialized)
final class ViewCLITests {
    let daemon: Daemon
    let cli: CLI

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
        self.cli = CLI(socketPath: self.daemon.socketPath)
    }

    private func run(_ arguments: [String], expect status: Int32 = 0) throws -> CLI.Result {
        let result = try self.cli.run(arguments)
        #expect(result.status == status, "logbook \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    private static let colors = ["red", "green", "blue"]

    /// Appends `item-1` … `item-12`, each one event `{"n": i, "color": …}` (positions 1…12),
    /// and runs a worker of group `items` that puts each event's data in view `items` under
    /// its stream's name. Returns the worker's task; cancel it to stop.
    private func itemsView() async throws -> Task<Void, any Error> {
        _ = try self.run(["groups", "create", "items", "--category", "item"])
        _ = try self.run(["views", "define", "items", "--group", "items", "--index", "$.n", "--index", "$.color"])
        for i in 1...12 {
            _ = try self.run(["append", "item-\(i)", "--type", "Item", "--data", #"{"n":\#(i),"color":"\#(Self.colors[i % 3])"}"#])
        }
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let worker = ProjectionWorker.writingViews(client: client, group: "items") { event in
            [.put("items", key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
        }
        return Task {
            defer { Task { await client.close() } }
            try await worker.run()
        }
    }

    private func keys(_ result: CLI.Result) -> [String] {
        result.lines.map { String($0.split(separator: "\t", maxSplits: 1)[0]) }
    }

    @Test func defineListAndDropViews() throws {
        _ = try self.run(["groups", "create", "orders", "--category", "order"])
        let defined = try #require(try self.run(["views", "define", "summaries", "--group", "orders", "--index", "$.customer", "--index", "$.total", "--json"]).json().first)
        #expect(defined["name"] as? String == "summaries")
        #expect(defined["group"] as? String == "orders")
        #expect(defined["indexed_paths"] as? [String] == ["$.customer", "$.total"])
        #expect(try self.run(["views", "define", "plain", "--group", "orders"]).lines == ["defined view plain (group orders, no indexes)"])
        // Defining exactly what exists again is fine.
        _ = try self.run(["views", "define", "plain", "--group", "orders"])

        let listed = try self.run(["views", "list", "--json"]).json()
        #expect(listed.compactMap { $0["name"] as? String } == ["plain", "summaries"])
        #expect(listed.last?["indexed_paths"] as? [String] == ["$.customer", "$.total"])
        let table = try self.run(["views", "list"]).lines
        #expect(table.count == 3)
        #expect(table.first?.hasPrefix("NAME") == true)
        #expect(table.contains { $0.hasPrefix("summaries ") && $0.contains("orders") && $0.contains("$.customer $.total") })

        #expect(try self.run(["views", "drop", "plain"]).lines == ["dropped view plain"])
        let dropped = try #require(try self.run(["views", "drop", "summaries", "--json"]).json().first)
        #expect(dropped["dropped"] as? Bool == true)
        #expect(try self.run(["views", "list"]).lines == ["no views"])

        let missing = try self.run(["views", "drop", "summaries"], expect: 5)
        #expect(missing.stderr.contains("NOT_FOUND"))
        _ = try self.run(["views", "define", "v", "--group", "nope"], expect: 5)
        _ = try self.run(["views", "define", "v"], expect: 64)
        _ = try self.run(["views", "drop"], expect: 64)
    }

    @Test func queryWithKeysPredicatesOrderAndMinPosition() async throws {
        let worker = try await self.itemsView()
        defer { worker.cancel() }

        // Everything, once the view has processed the last append (position 12).
        let all = try self.run(["query", "items", "--min-position", "12", "--wait", "60000"])
        #expect(Set(self.keys(all)) == Set((1...12).map { "item-\($0)" }))
        #expect(all.lines.count == 12)
        #expect(all.lines.contains("item-7\t{\"n\":7,\"color\":\"green\"}"))
        #expect(all.stderr.contains("as of position 12"))

        let greater = try self.run(["query", "items", "--where", "$.n > 9", "--order-by", "$.n"])
        #expect(self.keys(greater) == ["item-10", "item-11", "item-12"])
        let range = try self.run(["query", "items", "--where", "$.n >= 3", "--where", "$.n<5", "--order-by", "$.n"])
        #expect(self.keys(range) == ["item-3", "item-4"])
        let red = try self.run(["query", "items", "--where", "$.color = green", "--order-by", "$.n"])
        #expect(self.keys(red) == ["item-1", "item-4", "item-7", "item-10"])
        let quoted = try self.run(["query", "items", "--where", #"$.color != "green""#, "--where", "$.n <= 3", "--order-by", "$.n"])
        #expect(self.keys(quoted) == ["item-2", "item-3"])
        let among = try self.run(["query", "items", "--where", #"$.n in [2, 5, 99]"#, "--order-by", "$.n"])
        #expect(self.keys(among) == ["item-2", "item-5"])
        let prefixed = try self.run(["query", "items", "--where", "$.color prefix bl", "--order-by", "$.n", "--desc"])
        #expect(self.keys(prefixed) == ["item-11", "item-8", "item-5", "item-2"])

        let top = try self.run(["query", "items", "--order-by", "$.n", "--desc", "--limit", "3"])
        #expect(self.keys(top) == ["item-12", "item-11", "item-10"])
        let byKey = try self.run(["query", "items", "--prefix", "item-1"])
        #expect(self.keys(byKey) == ["item-1", "item-10", "item-11", "item-12"])
        let one = try self.run(["query", "items", "--key", "item-3", "--json"]).json()
        #expect(one.count == 1)
        #expect(one.first?["key"] as? String == "item-3")
        let doc = one.first?["doc"] as? [String: Any]
        #expect(doc?["n"] as? Int == 3)
        #expect(doc?["color"] as? String == "red")
        #expect(try self.run(["query", "items", "--key", "item-99"]).lines.isEmpty)

        // Refusals and usage errors.
        let undefined = try self.run(["query", "nope"], expect: 5)
        #expect(undefined.stderr.contains("NOT_FOUND"))
        let malformed = try self.run(["query", "items", "--where", "$.n ~ 3"], expect: 3)
        #expect(malformed.stderr.contains("INVALID_ARGUMENT"))
        _ = try self.run(["query", "items", "--where", "$.n in 3"], expect: 3)
        _ = try self.run(["query", "items", "--where", "n = 3"], expect: 3)
        let late = try self.run(["query", "items", "--min-position", "1000", "--wait", "200"], expect: 4)
        #expect(late.stderr.contains("DEADLINE_EXCEEDED"))
        _ = try self.run(["query", "items", "--desc"], expect: 64)
        _ = try self.run(["query", "items", "--key", "a", "--prefix", "b"], expect: 64)
        _ = try self.run(["query", "items", "--wait", "10"], expect: 64)
        _ = try self.run(["query", "items", "--limit", "0"], expect: 64)
    }

    @Test func resetWithClearViewsEmptiesTheView() async throws {
        let worker = try await self.itemsView()
        #expect(try self.run(["query", "items", "--min-position", "12", "--wait", "60000"]).lines.count == 12)
        worker.cancel()
        _ = try? await worker.value

        let reset = try self.run(["groups", "reset", "items", "--clear-views", "--json"]).json()
        #expect(reset.first?["checkpoint"] as? Int == 0)
        let empty = try self.run(["query", "items"])
        #expect(empty.lines.isEmpty)
        #expect(empty.stderr.contains("as of position 0"))

        // A worker rebuilds it from the log.
        let rebuild = try await self.restartWorker()
        defer { rebuild.cancel() }
        #expect(try self.run(["query", "items", "--min-position", "12", "--wait", "60000"]).lines.count == 12)
    }

    private func restartWorker() async throws -> Task<Void, any Error> {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let worker = ProjectionWorker.writingViews(client: client, group: "items") { event in
            [.put("items", key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
        }
        return Task {
            defer { Task { await client.close() } }
            try await worker.run()
        }
    }

    @Test func streamsStatsAndTimeTravel() throws {
        let beforeAnything = RFC3339Time.now()
        usleep(20_000)
        _ = try self.run(["append", "order-1", "--type", "OrderPlaced", "--data", "{}"])
        _ = try self.run(["append", "order-1", "--type", "OrderPaid", "--data", "{}"])
        _ = try self.run(["append", "user-1", "--type", "UserCreated", "--data", "{}"])
        usleep(20_000)
        let afterThree = RFC3339Time.now()
        usleep(20_000)
        _ = try self.run(["append", "order-2", "--type", "OrderPlaced", "--data", "{}"])

        let table = try self.run(["streams"]).lines
        #expect(table.count == 4)
        #expect(table.first?.hasPrefix("STREAM") == true)
        let order1 = try #require(table.first { $0.hasPrefix("order-1 ") })
        #expect(order1.split(separator: " ", omittingEmptySubsequences: true).prefix(5) == ["order-1", "1", "2", "1", "2"])

        let docs = try self.run(["streams", "--json"]).json()
        #expect(docs.compactMap { $0["name"] as? String } == ["order-1", "order-2", "user-1"])
        #expect(docs.first?["last_revision"] as? Int == 1)
        #expect(docs.first?["event_count"] as? Int == 2)
        #expect(docs.first?["first_position"] as? Int == 1)
        #expect(docs.first?["last_position"] as? Int == 2)
        #expect(docs.first?["first_time"] is String)

        let orders = try self.run(["streams", "--prefix", "order-", "--json"]).json()
        #expect(orders.compactMap { $0["name"] as? String } == ["order-1", "order-2"])
        let asOfTwo = try self.run(["streams", "--as-of", "2", "--json"]).json()
        #expect(asOfTwo.compactMap { $0["name"] as? String } == ["order-1"])
        let asOfTime = try self.run(["streams", "--as-of-time", afterThree, "--json"]).json()
        #expect(asOfTime.compactMap { $0["name"] as? String } == ["order-1", "user-1"])
        #expect(try self.run(["streams", "--as-of-time", beforeAnything]).lines == ["no streams"])
        _ = try self.run(["streams", "--as-of-time", "yesterday"], expect: 64)
        _ = try self.run(["streams", "--as-of", "2", "--as-of-time", afterThree], expect: 64)

        let read = try self.run(["read", "--all", "--as-of-time", afterThree, "--json"]).json()
        #expect(read.compactMap { $0["position"] as? Int } == [1, 2, 3])
        #expect(try self.run(["read", "--all", "--as-of-time", beforeAnything]).lines.isEmpty)

        let stats = try self.run(["stats"]).lines
        let fields = Dictionary(stats.map { line in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields["events"] == "4")
        #expect(fields["appends"] == "4")
        #expect(fields["head_position"] == "4")
        #expect(fields["uptime_seconds"] != nil)
        let statsJSON = try #require(try self.run(["stats", "--json"]).json().first)
        #expect(statsJSON["head_position"] as? Int == 4)
        #expect(statsJSON["connections"] as? Int ?? 0 >= 1)

        let types = try self.run(["query", "$event_types", "--json"]).json()
        #expect(types.compactMap { $0["key"] as? String } == ["OrderPaid", "OrderPlaced", "UserCreated"])
    }
}

/// The current time as RFC 3339, as the CLI takes it.
enum RFC3339Time {
    static func now() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
