/// What a benchmark measured, and its two printed forms (DESIGN §9; `Benchmarks/run.sh`
/// reads the JSON).
struct BenchReport {
    var workload: String
    var clients: Int
    /// The events (or queries) counted, how long they took, and their latencies.
    var measured: BenchHarness.Measured
    /// What was measured, in words, for the summary.
    var detail: String
    /// What one latency is the time of, for the summary.
    var latencyOf: String
    /// What `measured.count` counts, for the summary: events, or queries.
    var unit = "events"

    var seconds: Double {
        self.measured.elapsed.seconds
    }

    /// The slowest client's rate over the fastest's (1 when every client was served alike);
    /// nil with fewer than two clients sharing the work.
    var fairness: Double? {
        let rates = self.measured.clientRates
        guard rates.count > 1, let slowest = rates.min(), let fastest = rates.max(), fastest > 0 else { return nil }
        return slowest / fastest
    }

    var eventsPerSecond: Double {
        self.seconds > 0 ? Double(self.measured.count) / self.seconds : 0
    }

    /// `{"workload","clients","events","events_per_second","p50_us","p99_us","p999_us"}`.
    var json: String {
        let rate = (self.eventsPerSecond * 10).rounded() / 10
        let latencies = self.measured.latencies
        return """
            {"workload":"\(self.workload)","clients":\(self.clients),"events":\(self.measured.count),\
            "events_per_second":\(rate),"p50_us":\(latencies.at(percentile: 50)),\
            "p99_us":\(latencies.at(percentile: 99)),"p999_us":\(latencies.at(percentile: 99.9))\
            \(self.fairness.map { ",\"fairness\":\(($0 * 1000).rounded() / 1000)" } ?? "")\
            \(self.measured.sinceCommit.map { ",\"since_commit_p50_us\":\($0.at(percentile: 50)),\"since_commit_p99_us\":\($0.at(percentile: 99))" } ?? "")}
            """
    }

    var summary: String {
        let latencies = self.measured.latencies
        return """
            bench \(self.workload): \(self.measured.count) \(self.unit), \(self.clients) clients, \(self.detail)
              \(Self.fixed(self.seconds, 3)) s, \(Int(self.eventsPerSecond.rounded())) \(self.unit)/s
              latency per \(self.latencyOf): p50 \(Self.time(latencies.at(percentile: 50))) \
            p99 \(Self.time(latencies.at(percentile: 99))) \
            p99.9 \(Self.time(latencies.at(percentile: 99.9))) \
            max \(Self.time(latencies.max)) (\(latencies.count) calls)\(self.fairnessLine)\(self.sinceCommitLine)
            """
    }

    private var sinceCommitLine: String {
        guard let latencies = self.measured.sinceCommit else { return "" }
        return """

              from commit to delivery: p50 \(Self.time(latencies.at(percentile: 50))) \
            p99 \(Self.time(latencies.at(percentile: 99))) p99.9 \(Self.time(latencies.at(percentile: 99.9))) \
            max \(Self.time(latencies.max))
            """
    }

    private var fairnessLine: String {
        guard let fairness = self.fairness, let slowest = self.measured.clientRates.min(),
            let fastest = self.measured.clientRates.max()
        else { return "" }
        return """

              per client: slowest \(Int(slowest.rounded())) \(self.unit)/s, fastest \(Int(fastest.rounded())), \
            slowest ÷ fastest \(Self.fixed(fairness, 2))
            """
    }

    private static func time(_ microseconds: UInt64) -> String {
        microseconds < 1000 ? "\(microseconds) µs" : "\(Self.fixed(Double(microseconds) / 1000, 2)) ms"
    }

    private static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let fraction = String(scaled % Int(scale))
        return "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
