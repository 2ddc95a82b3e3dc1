internal import Logbook

extension LogbookCommand.Bench {
    /// Events per append while `bench read` tops the log up: large batches fill it fast.
    static let readFillEventsPerAppendMax = 1000

    /// `bench read`: tops the log up to `--events` events, then `--clients` connections read
    /// the newest `--events` events of `$all`, `--batch` (default ``readBatchDefault``) per
    /// read call; latency is per read call.
    func runRead(_ harness: BenchHarness) async throws -> BenchReport {
        let batch = self.batch ?? Self.readBatchDefault
        let clients = try await harness.connect(self.clients)
        let last = try await self.fill(clients, harness: harness)
        let first = last - UInt64(self.eventCount) + 1
        let measured = try await harness.eachClient(clients, sharing: self.eventCount) { _, client, share, latencies in
            var next = first + UInt64(share.lowerBound)
            var remaining = share.count
            while remaining > 0 {
                let sent = ContinuousClock.now
                var count = 0
                for try await event in client.read(.all, from: .position(next), limit: min(batch, remaining)) {
                    count += 1
                    next = event.position + 1
                }
                latencies.record(since: sent)
                guard count > 0 else { break }
                remaining -= count
            }
            return share.count - remaining
        }
        return BenchReport(
            workload: "read",
            clients: self.clients,
            measured: measured,
            detail: "positions \(first)–\(last) of $all, \(batch) per read call",
            latencyOf: "read call"
        )
    }

    /// Tops the log up to `--events` events and returns its last position. Appends are as
    /// large as the server allows, and fill at most half a frame (with 128 bytes of room
    /// per event for its framing).
    private func fill(_ clients: [LogbookClient], harness: BenchHarness) async throws -> UInt64 {
        let last = try await Self.lastPosition(clients[0])
        guard last < UInt64(self.eventCount) else { return last }
        let limits = clients[0].serverInfo.limits
        var batchMax = Self.readFillEventsPerAppendMax
        if limits.eventsPerAppendMax > 0 { batchMax = min(batchMax, limits.eventsPerAppendMax) }
        if limits.frameBytesMax > 0 { batchMax = min(batchMax, max(1, limits.frameBytesMax / 2 / (self.size + 128))) }
        let perAppend = batchMax
        let payload = BenchHarness.payload(size: self.size)
        let run = BenchHarness.runID()
        _ = try await harness.eachClient(clients, sharing: self.eventCount - Int(last)) { index, client, share, _ in
            for start in stride(from: 0, to: share.count, by: perAppend) {
                let events = (start..<min(start + perAppend, share.count)).map { _ in EventData(type: "BenchEvent", data: payload) }
                _ = try await client.append(to: "bench-\(run)-fill-\(index)", events: events)
            }
            return share.count
        }
        return try await Self.lastPosition(clients[0])
    }

    private static func lastPosition(_ client: LogbookClient) async throws -> UInt64 {
        for try await event in client.read(.all, direction: .backwards, limit: 1) {
            return event.position
        }
        return 0
    }
}
