internal import Histogram

/// The latencies a benchmark measured, in microseconds (an HdrHistogram with three
/// significant digits, so percentiles stay exact enough at any scale).
struct Latencies: Sendable {
    private var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)

    /// Records one latency in microseconds.
    mutating func record(microseconds: UInt64) {
        _ = self.histogram.record(microseconds)
    }

    /// Records the time since `start`.
    mutating func record(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        self.record(microseconds: UInt64(Swift.max(0, seconds)) * 1_000_000 + UInt64(Swift.max(0, attoseconds) / 1_000_000_000_000))
    }

    /// Adds what another task measured.
    mutating func add(_ other: Latencies) {
        self.histogram.add(other.histogram)
    }

    /// The latency at or below which `percentile` per cent of those recorded lie.
    func at(percentile: Double) -> UInt64 {
        self.histogram.valueAtPercentile(percentile)
    }

    var max: UInt64 { self.histogram.max }

    var count: UInt64 { self.histogram.totalCount }
}
