internal import Foundation
internal import Logbook
internal import Testing

#if canImport(FoundationNetworking)
internal import FoundationNetworking
#endif

/// The daemon's Prometheus metrics (issue 15, DESIGN §11), scraped from the real
/// `--metrics-listen` endpoint with an HTTP client and read with `logbook metrics`: every
/// metric the README lists is there and moves with the work done.
@Suite("Prometheus metrics", .serialized)
final class MetricsTests {
    let daemon: Daemon
    let cli: CLI
    let url: URL

    init() async throws {
        self.daemon = try Daemon()
        try self.daemon.start(["--metrics-listen", "127.0.0.1:0"])
        self.cli = CLI(socketPath: self.daemon.socketPath)
        // Port 0: the daemon logs the one it got.
        let logged = try #require(self.daemon.log.split(separator: "\n").first { $0.contains("serving metrics") })
        let address = try #require(logged.firstRange(of: "http://").map { logged[$0.lowerBound...] }?.split(separator: " ").first)
        self.url = try #require(URL(string: String(address)))
    }

    /// The samples of an exposition, by name with labels as printed (`a_total`,
    /// `b{group="g"}`); the `# TYPE` lines are checked and dropped.
    private static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                Issue.record("not a sample line: \(line)")
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    private func scrape() async throws -> [String: Double] {
        let (body, response) = try await URLSession.shared.data(from: self.url)
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(http.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return Self.samples(String(decoding: body, as: UTF8.self))
    }

    /// Scrapes until `condition` holds (for up to 30 s); the last scrape either way.
    private func scrape(until condition: ([String: Double]) -> Bool) async throws -> [String: Double] {
        let deadline = ContinuousClock.now + .seconds(30)
        var samples = try await self.scrape()
        while !condition(samples), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            samples = try await self.scrape()
        }
        return samples
    }

    private func run(_ arguments: [String], stdin: String? = nil, expect status: Int32 = 0) throws -> CLI.Result {
        let result = try self.cli.run(arguments, stdin: stdin)
        #expect(result.status == status, "logbook \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    /// The one value of a histogram's or labelled family's sample whose name starts with
    /// `prefix` (the store's label differs by store).
    private static func only(_ samples: [String: Double], _ prefix: String) -> Double? {
        let found = samples.filter { $0.key.hasPrefix(prefix) }
        return found.count == 1 ? found.first?.value : nil
    }

    @Test func everyMetricMovesWithTheWorkDone() async throws {
        let before = try await self.scrape()
        #expect(before["logbook_appends_total"] == 0)
        #expect(before["logbook_head_position"] == 0)
        #expect(before["logbook_writer_ok"] == 1)

        // 5 appends of 2 events, 7 data bytes each; one refused for its expected revision,
        // one for its stream's name.
        for i in 1...5 {
            _ = try self.run(["append", "order-\(i)", "--type", "Placed"], stdin: "{\"n\":1}\n{\"n\":2}\n")
        }
        _ = try self.run(["append", "order-1", "--expect", "0", "--type", "T", "--data", "{}"], expect: 9)
        _ = try self.run(["append", "$bad", "--type", "T", "--data", "{}"], expect: 3)
        _ = try self.run(["groups", "create", "orders", "--category", "order", "--max-in-flight", "1"])
        _ = try self.run(["views", "define", "summaries", "--group", "orders"])
        _ = try self.run(["query", "summaries", "--key", "order-1"], expect: 0)

        // Held open while scraped: a catch-up subscription and a consumer holding one
        // delivery unsettled.
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let subscription = Task {
            for try await _ in client.subscribe(.all) {}
        }
        var consumer = client.consume(group: "orders").makeAsyncIterator()
        let held = try #require(try await consumer.next())

        var now = try await self.scrape {
            $0["logbook_open_calls{kind=\"subscribe\"}"] == 1 && $0["logbook_group_in_flight{group=\"orders\"}"] == 1
        }
        #expect(now["logbook_open_calls{kind=\"subscribe\"}"] == 1)
        #expect(now["logbook_group_in_flight{group=\"orders\"}"] == 1)
        #expect(now["logbook_appends_total"] == 5)
        #expect(now["logbook_append_errors_total"] == 2)
        #expect(now["logbook_events_appended_total"] == 10)
        #expect(now["logbook_appended_bytes_total"] == 70)
        #expect((now["logbook_append_duration_seconds_count"] ?? 0) >= 5)
        #expect(now["logbook_head_position"] == 10)
        #expect(Self.only(now, "logbook_commit_events_sum") == 10)
        #expect((Self.only(now, "logbook_fsync_duration_seconds_count") ?? 0) >= 5, "one sync per commit at least")
        #expect((now["logbook_query_duration_seconds_count"] ?? 0) >= 1)
        #expect((now["logbook_connections"] ?? 0) >= 1)
        #expect(now["logbook_open_calls{kind=\"consume\"}"] == 1)
        #expect(now["logbook_group_consumers{group=\"orders\"}"] == 1)
        #expect(now["logbook_group_lag{group=\"orders\"}"] == 10)
        #expect(now["logbook_group_parked{group=\"orders\"}"] == 0)
        #expect(now["logbook_view_lag{view=\"summaries\"}"] == 10)
        if !Daemon.onPostgres {
            #expect((now["logbook_disk_bytes{part=\"database\"}"] ?? 0) > 0)
        }

        // Parking the held event and settling the rest moves the group's gauges. Under
        // by_stream the stream's next event is parked behind it, so 8 are left to ack.
        try await held.nackAndWait(.park, reason: "metrics test")
        for _ in 1...8 {
            try await #require(try await consumer.next()).ackAndWait()
        }
        now = try await self.scrape { $0["logbook_group_lag{group=\"orders\"}"] == 0 }
        #expect(now["logbook_group_lag{group=\"orders\"}"] == 0)
        #expect(now["logbook_group_parked{group=\"orders\"}"] == 2)
        #expect(now["logbook_group_in_flight{group=\"orders\"}"] == 0)
        #expect(now["logbook_view_lag{view=\"summaries\"}"] == 0)

        subscription.cancel()
        await client.close()
        _ = await subscription.result

        // A group and a view that are gone no longer show.
        _ = try self.run(["views", "drop", "summaries"])
        _ = try self.run(["groups", "delete", "orders"])
        let after = try await self.scrape()
        #expect(!after.keys.contains { $0.contains("orders") || $0.contains("summaries") }, "\(after.keys.sorted())")
    }

    @Test func theCLIPrintsTheSameMetricsOverTheSocket() async throws {
        _ = try self.run(["append", "s-1", "--type", "T", "--data", "{}"])
        let printed = Self.samples(try self.run(["metrics"]).stdout)
        #expect(printed["logbook_appends_total"] == 1)
        #expect(printed["logbook_open_calls{kind=\"admin\"}"] == 1, "the metrics call itself")
        #expect(Set(printed.keys).isSuperset(of: try await self.scrape().keys.filter { !$0.contains("admin") }))
    }

    @Test func otherPathsAndMethodsAreRefused() async throws {
        let (_, missing) = try await URLSession.shared.data(from: self.url.deletingLastPathComponent().appendingPathComponent("nope"))
        #expect((missing as? HTTPURLResponse)?.statusCode == 404)
        var post = URLRequest(url: self.url)
        post.httpMethod = "POST"
        let (_, refused) = try await URLSession.shared.data(for: post)
        #expect((refused as? HTTPURLResponse)?.statusCode == 405)
    }

    @Test func aBadOrTakenListenAddressStopsTheStart() throws {
        let other = try Daemon()
        #expect(throws: Daemon.DaemonError.self) { try other.start(["--metrics-listen", "localhost"]) }
        #expect(other.log.contains("--metrics-listen takes an IP address and a port"))

        let third = try Daemon()
        let taken = "127.0.0.1:\(self.url.port ?? 0)"
        #expect(throws: Daemon.DaemonError.self) { try third.start(["--metrics-listen", taken]) }
        #expect(third.log.contains("cannot serve the metrics on \(taken)"), "\(third.log)")
    }
}
