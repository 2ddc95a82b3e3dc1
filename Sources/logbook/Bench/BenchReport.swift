/// What a benchmark measured, and its two printed forms (DESIGN §9; `Benchmarks/run.sh`
/// reads the JSON).
struct BenchReport {
    var workload: String
    var clients: Int
    var events: Int
    var elapsed: Duration
    var latencies: Latencies
    /// What was measured, in words, for the summary.
    var detail: String
    /// What one latency is the time of, for the summary.
    var latencyOf: String
    /// What `events` counts, for the summary: events, or queries.
    var unit = "events"

    var seconds: Double {
        let (seconds, attoseconds) = self.elapsed.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var eventsPerSecond: Double {
        self.seconds > 0 ? Double(self.events) / self.seconds : 0
    }

    /// `{"workload","clients","events","events_per_second","p50_us","p99_us","p999_us"}`.
    var json: String {
        let rate = (self.eventsPerSecond * 10).rounded() / 10
        return """
            {"workload":"\(self.workload)","clients":\(self.clients),"events":\(self.events),\
            "events_per_second":\(rate),"p50_us":\(self.latencies.at(percentile: 50)),\
            "p99_us":\(self.latencies.at(percentile: 99)),"p999_us":\(self.latencies.at(percentile: 99.9))}
            """
    }

    var summary: String {
        """
        bench \(self.workload): \(self.events) \(self.unit), \(self.clients) clients, \(self.detail)
          \(Self.fixed(self.seconds, 3)) s, \(Int(self.eventsPerSecond.rounded())) \(self.unit)/s
          latency per \(self.latencyOf): p50 \(Self.time(self.latencies.at(percentile: 50))) \
        p99 \(Self.time(self.latencies.at(percentile: 99))) \
        p99.9 \(Self.time(self.latencies.at(percentile: 99.9))) \
        max \(Self.time(self.latencies.max)) (\(self.latencies.count) calls)
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
