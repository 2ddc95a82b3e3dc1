internal import Histogram

/// The latencies a benchmark measured, in microseconds: an HdrHistogram with two
/// significant digits (percentiles within 1%), sized up front for a minute.
///
/// Each client task keeps its own. Growing from nothing, as an auto-resizing histogram
/// does, each new maximum resized it through unspecialized generic code: with 1,000 clients
/// that was half of the bench client's CPU. Two digits keep a minute's range at 19 KiB
/// per client (three would take eight times that).
struct Latencies: Sendable {
    private var histogram: Histogram<UInt64> = {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .two)
        histogram.autoResize = true  // a latency past a minute still counts
        return histogram
    }()

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
