internal import LogbookStorage

/// Draws for the differential workloads from the seeded `SplitMix64` (ViewQueryTests.swift),
/// so a run is replayed exactly from the seed its failure message prints.
///
/// They use their own arithmetic rather than the standard library's
/// `random(in:using:)`, whose algorithm is not promised to stay the same between Swift
/// releases: a seed then names the same workload on every toolchain.
extension SplitMix64 {
    /// A number in `0..<count` (Lemire's multiply-high; the bias is below 2⁻⁵⁰ for the
    /// small counts used here).
    mutating func below(_ count: Int) -> Int {
        precondition(count > 0)
        return Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    mutating func position(in range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + UInt64(below(Int(range.upperBound - range.lowerBound) + 1))
    }

    /// True in `percent` cases out of 100.
    mutating func percent(_ percent: Int) -> Bool {
        below(100) < percent
    }

    mutating func pick<T>(_ choices: [T]) -> T {
        choices[below(choices.count)]
    }

    /// `count` distinct elements of `choices` in a random order.
    mutating func distinct<T>(_ count: Int, of choices: [T]) -> [T] {
        var remaining = choices
        var picked = [T]()
        for _ in 0..<min(count, choices.count) {
            picked.append(remaining.remove(at: below(remaining.count)))
        }
        return picked
    }

    /// An event id drawn from the seed, so both stores are given the same ids.
    mutating func eventID() -> EventID {
        EventID(high: next(), low: next())
    }
}
