internal import Logbook

extension LogbookCommand.Bench {
    /// `bench append`: `--clients` connections append `--events` events in all, `--batch`
    /// (default ``appendBatchDefault``) events of `--size` bytes per append, each client to
    /// its own stream (with `--distinct-streams`, each append to a new one); latency is per
    /// append.
    func runAppend(_ harness: BenchHarness) async throws -> BenchReport {
        let batch = self.batch ?? Self.appendBatchDefault
        let payload = BenchHarness.payload(size: self.size)
        let run = BenchHarness.runID()
        let clients = try await harness.connect(self.clients)
        let measured = try await harness.eachClient(clients, sharing: self.eventCount) { index, client, share, latencies in
            var remaining = share.count
            var appends = 0
            while remaining > 0 {
                let stream = self.distinctStreams ? "bench-\(run)-\(index)-\(appends)" : "bench-\(run)-\(index)"
                appends += 1
                let count = min(batch, remaining)
                let events = (0..<count).map { _ in EventData(type: "BenchEvent", data: payload) }
                let sent = ContinuousClock.now
                _ = try await client.append(to: stream, events: events)
                latencies.record(since: sent)
                remaining -= count
            }
            return share.count
        }
        return BenchReport(
            workload: "append",
            clients: self.clients,
            measured: measured,
            detail: "\(self.size)-byte events, \(batch) per append",
            latencyOf: "append"
        )
    }
}
