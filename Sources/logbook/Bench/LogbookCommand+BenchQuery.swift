internal import Logbook

extension LogbookCommand.Bench {
    /// Streams (and so documents) per multi-stream append while `bench query` fills its view.
    static let queryFillStreamsPerAppend = 500

    /// Deliveries the filling worker may hold: its group is by-stream over one stream per
    /// document, so this, not stream order, bounds what is on the way.
    static let queryWorkerMaxInFlight = 1024

    /// How long `bench query` waits for its worker to put every document in the view.
    static let queryFillTimeout = Duration.seconds(1800)

    /// `bench query`: a temporary group over category `benchq<run>` and its view (indexed on
    /// `$.n`); `--docs` events `{"n": i}`, one per stream, put into the view by a worker in
    /// this process, each through its ack; once a query with `min_position` = the last
    /// append's position answers, `--clients` connections run `--queries` queries of one
    /// random document by key or by `$.n = i`. The view and group are removed afterwards.
    func runQuery(_ harness: BenchHarness) async throws -> BenchReport {
        let (run, docs, by) = (BenchHarness.runID(), self.docs, self.by)
        let category = "benchq\(run)"
        let view = "bench_q_\(run)"
        let clients = try await harness.connect(self.clients)
        let settings = GroupSettings(name: "bench-q-\(run)", selector: .category(category), maxInFlight: Self.queryWorkerMaxInFlight)
        let worker = try await ViewWorker.start(settings, view: view, indexedPaths: ["$.n"], client: clients[0], harness: harness)
        var last: AppendResult?
        for first in stride(from: 0, to: docs, by: Self.queryFillStreamsPerAppend) {
            let appends = (first..<min(first + Self.queryFillStreamsPerAppend, docs)).map { index in
                StreamAppend(stream: "\(category)-\(index)", events: [EventData(type: "BenchDoc", json: #"{"n":\#(index)}"#)])
            }
            last = try await clients[0].append(appends).last
        }
        try await worker.waitUntilVisible(last, within: Self.queryFillTimeout)
        await worker.stop()
        let measured = try await harness.eachClient(clients, sharing: self.queries) { _, client, share, latencies in
            for _ in share {
                let n = Int.random(in: 0..<docs)
                let query =
                    switch by {
                    case .key: ViewQuery(view, keys: .key("\(category)-\(n)"))
                    case .predicate: ViewQuery(view, where: [.equal("$.n", .number(n))])
                    }
                let sent = ContinuousClock.now
                let page = try await client.query(query)
                latencies.record(since: sent)
                guard page.rows.count == 1 else {
                    throw LogbookError(code: .internalError, message: "document \(n) came back as \(page.rows.count) rows")
                }
            }
            return share.count
        }
        return BenchReport(
            workload: "query-\(by.rawValue)",
            clients: clients.count,
            measured: measured,
            detail: "one document of \(docs) per query, by " + (by == .key ? "key" : "indexed predicate $.n = N"),
            latencyOf: "query",
            unit: "queries"
        )
    }
}
