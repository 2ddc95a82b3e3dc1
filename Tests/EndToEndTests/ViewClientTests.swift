internal import Foundation
internal import Logbook
internal import Synchronization
internal import Testing

/// The client library's read side against the real daemon: query paging, read-your-writes
/// with a ProjectionWorker, view writes the daemon refuses, aggregate.
@Suite("Views and queries from the Swift client", .serialized)
final class ViewClientTests {
    let daemon: Daemon

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
    }

    private func connect() async throws -> LogbookClient {
        try await LogbookClient.connect(socketPath: self.daemon.socketPath)
    }

    struct Item: Codable, Equatable {
        var n: Int
    }

    /// A group over category `item` and its view `items` (indexed on `$.n`), and a worker
    /// that puts each event's data under its stream's name.
    private func startItemsWorker(_ client: LogbookClient) async throws -> Task<Void, any Error> {
        try await client.createGroup(GroupSettings(name: "items", selector: .category("item")))
        try await client.defineView(ViewDefinition(name: "items", group: "items", indexedPaths: ["$.n"]))
        let worker = ProjectionWorker.writingViews(client: client, group: "items") { event in
            [.put("items", key: event.stream, json: String(decoding: event.data, as: UTF8.self))]
        }
        return Task { try await worker.run() }
    }

    @Test func pagingReturnsEveryRowOnce() async throws {
        let client = try await self.connect()
        let worker = try await self.startItemsWorker(client)
        defer { worker.cancel() }
        let count = 250
        var appends: [StreamAppend] = []
        for i in 0..<count {
            appends.append(StreamAppend(stream: String(format: "item-%03d", i), expected: .noStream, events: [
                EventData(type: "Item", json: #"{"n":\#((i * 37) % count)}"#),
            ]))
        }
        let results = try await client.append(appends)
        let last = try #require(results.last)

        // By key, 40 rows a page: 7 pages, every key once, in key order.
        let byKey = ViewQuery("items", limit: 40, consistentWith: last, wait: .seconds(60))
        var pages = 0
        var keys: [String] = []
        for try await page in client.pages(byKey) {
            pages += 1
            #expect(page.rows.count <= 40)
            #expect(page.asOfPosition >= last.positions[0])
            keys += page.rows.map(\.key)
        }
        #expect(pages == 7)
        #expect(keys == (0..<count).map { String(format: "item-%03d", $0) })

        // Ordered by a path, descending, filtered: the rows of the reference, once each.
        let filtered = ViewQuery("items", where: [.greaterOrEqual("$.n", 100)], orderBy: "$.n", descending: true, limit: 33)
        var values: [Int] = []
        for try await row in client.rows(filtered) {
            values.append(try row.decode(Item.self).n)
        }
        #expect(values == Array((100..<count).reversed()))

        // One page by hand, following its cursor.
        let first = try await client.query("items", where: [.less("$.n", 10)], orderBy: "$.n", limit: 6)
        #expect(try first.decode(Item.self) == (0..<6).map(Item.init(n:)))
        let cursor = try #require(first.nextCursor)
        let second = try await client.query("items", where: [.less("$.n", 10)], orderBy: "$.n", limit: 6, cursor: cursor)
        #expect(try second.decode(Item.self) == (6..<10).map(Item.init(n:)))
        #expect(second.nextCursor == nil)

        let one = try await client.query("items", keys: .key("item-001"))
        #expect(one.rows.map(\.key) == ["item-001"])
        let among = try await client.query("items", where: [.isIn("$.n", [3, 5, 1000])], orderBy: "$.n")
        #expect(try among.decode(Item.self) == [Item(n: 3), Item(n: 5)])
        await client.close()
    }

    @Test func readYourWritesWithAWorker() async throws {
        let client = try await self.connect()
        let worker = try await self.startItemsWorker(client)
        defer { worker.cancel() }
        for round in 1...50 {
            let result = try await client.append(to: "item-rw", events: [EventData(type: "Item", json: #"{"n":\#(round)}"#)])
            let page = try await client.query("items", keys: .key("item-rw"), consistentWith: result, wait: .seconds(60))
            #expect(page.asOfPosition >= result.positions[0])
            #expect(try page.decode(Item.self) == [Item(n: round)], "round \(round)")
        }
        // An unrelated append moves the group's checkpoint past it: no query waits forever.
        let unrelated = try await client.append(to: "other-1", events: [EventData(type: "Other", json: "{}")])
        let page = try await client.query(ViewQuery("items", consistentWith: unrelated, wait: .seconds(60)))
        #expect(page.rows.count == 1)

        await #expect {
            try await client.query("items", minPosition: unrelated.positions[0] + 100, wait: .milliseconds(200))
        } throws: { error in
            (error as? LogbookError)?.code == .deadlineExceeded
        }
        await #expect {
            try await client.query("nope")
        } throws: { error in
            (error as? LogbookError)?.code == .notFound
        }
        await #expect {
            try await client.query("items", where: [.equal("no-dollar", 1)])
        } throws: { error in
            (error as? LogbookError)?.code == .invalidArgument
        }
        await client.close()
    }

    @Test func viewsAdminAndRefusedWrites() async throws {
        let client = try await self.connect()
        try await client.createGroup(GroupSettings(name: "a", selector: .category("a")))
        try await client.createGroup(GroupSettings(name: "b", selector: .category("b")))
        try await client.defineView(ViewDefinition(name: "of_a", group: "a", indexedPaths: ["$.x"]))
        try await client.defineView(ViewDefinition(name: "of_b", group: "b"))
        #expect(try await client.views() == [
            ViewDefinition(name: "of_a", group: "a", indexedPaths: ["$.x"]),
            ViewDefinition(name: "of_b", group: "b"),
        ])

        // A worker of group a writing b's view is refused, and nothing of its ack applies.
        _ = try await client.append(to: "a-1", events: [EventData(type: "A", json: "{}")])
        let wrongView = ProjectionWorker.writingViews(client: client, group: "a") { event in
            [.put("of_a", key: "first", json: "{}"), .put("of_b", key: "x", json: "{}")]
        }
        await #expect {
            try await wrongView.run()
        } throws: { error in
            (error as? LogbookError)?.code == .failedPrecondition
        }
        let unknownView = ProjectionWorker.writingViews(client: client, group: "a") { _ in
            [.put("of_a", key: "first", json: "{}"), .remove("missing", key: "x")]
        }
        await #expect {
            try await unknownView.run()
        } throws: { error in
            (error as? LogbookError)?.code == .notFound
        }
        let notJSON = ProjectionWorker.writingViews(client: client, group: "a") { _ in
            [.put("of_a", key: "first", json: "{not json")]
        }
        await #expect {
            try await notJSON.run()
        } throws: { error in
            (error as? LogbookError)?.code == .invalidArgument
        }
        #expect(try await client.query("of_a").rows.isEmpty)
        #expect(try await client.groupInfo("a").checkpoint == 0)

        // A good worker: merge patches add up, a removal removes.
        let good = ProjectionWorker.writingViews(client: client, group: "a") { event in
            [
                try .merge("of_a", key: "doc", ["first": event.position]),
                .merge("of_a", key: "doc", patch: #"{"x":1,"nested":{"y":2}}"#),
                .put("of_a", key: "gone", json: "{}"),
                .remove("of_a", key: "gone"),
            ]
        }
        let running = Task { try await good.run() }
        let page = try await client.query("of_a", minPosition: 1, wait: .seconds(60))
        running.cancel()
        #expect(page.rows.map(\.key) == ["doc"])
        struct Doc: Decodable, Equatable {
            struct Nested: Decodable, Equatable { var y: Int }
            var first: Int
            var x: Int
            var nested: Nested
        }
        #expect(try page.decode(Doc.self) == [Doc(first: 1, x: 1, nested: Doc.Nested(y: 2))])

        try await client.resetGroup("a", clearViews: true)
        #expect(try await client.query("of_a").rows.isEmpty)
        try await client.dropView("of_b")
        #expect(try await client.views().map(\.name) == ["of_a"])
        await #expect {
            try await client.dropView("of_b")
        } throws: { error in
            (error as? LogbookError)?.code == .notFound
        }
        await client.close()
    }

    @Test func aggregateFoldsAStream() async throws {
        let client = try await self.connect()
        let empty = try await client.aggregate(stream: "account-1", initial: 0) { total, event in
            total += try JSONDecoder().decode(Item.self, from: Data(event.data)).n
        }
        #expect(empty.value == 0)
        #expect(empty.revision == nil)

        for amount in [5, 10, -3] {
            _ = try await client.append(to: "account-1", events: [EventData(type: "Moved", json: #"{"n":\#(amount)}"#)])
            _ = try await client.append(to: "account-2", events: [EventData(type: "Moved", json: #"{"n":1000}"#)])
        }
        let balance = try await client.aggregate(stream: "account-1", initial: 0) { total, event in
            total += try JSONDecoder().decode(Item.self, from: Data(event.data)).n
        }
        #expect(balance.value == 12)
        #expect(balance.revision == 2)
        let earlier = try await client.aggregate(stream: "account-1", initial: [Int](), asOf: 3) { seen, event in
            seen.append(Int(event.revision))
        }
        #expect(earlier.value == [0, 1])
        #expect(earlier.revision == 1)
        // The revision is the one to append after.
        _ = try await client.append(to: "account-1", expected: .exact(try #require(balance.revision)), events: [EventData(type: "Moved", json: #"{"n":1}"#)])
        await client.close()
    }
}
