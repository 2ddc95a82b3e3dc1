internal import Logbook

extension LogbookCommand.Bench {
    /// `bench visible`: a ``ViewWorker`` puts each event of category `benchv<run>` into a view
    /// through its ack, while one client appends `--events` events, one at a time, and after
    /// each queries the view for it with `min_position` = its position. Latency is from
    /// before the append to the query's answer.
    func runVisible(_ harness: BenchHarness) async throws -> BenchReport {
        let run = BenchHarness.runID()
        let category = "benchv\(run)"
        let clients = try await harness.connect(2)
        let (admin, appender) = (clients[0], clients[1])
        let settings = GroupSettings(name: "bench-v-\(run)", selector: .category(category), start: .end)
        let worker = try await ViewWorker.start(settings, view: "bench_v_\(run)", client: admin, harness: harness)
        var measured = BenchHarness.Measured(count: self.eventCount)
        let started = ContinuousClock.now
        for index in 0..<self.eventCount {
            let stream = "\(category)-\(index % 10)"
            let sent = ContinuousClock.now
            let result = try await appender.append(to: stream, events: [EventData(type: "BenchVisible", json: #"{"i":\#(index)}"#)])
            let page = try await appender.query(ViewQuery(worker.view, keys: .key(stream), consistentWith: result, wait: .seconds(30)))
            measured.latencies.record(since: sent)
            guard page.rows.first?.json == #"{"i":\#(index)}"# else {
                throw LogbookError(code: .internalError, message: "the view did not show append \(index) at its position: \(page.rows)")
            }
        }
        measured.elapsed = ContinuousClock.now - started
        await worker.stop()
        return BenchReport(
            workload: "visible",
            clients: 1,
            measured: measured,
            detail: "append then query with min_position, one worker writing the view through its acks",
            latencyOf: "append→visible"
        )
    }
}
