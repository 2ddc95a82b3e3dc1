@testable internal import LogbookStorage
internal import Testing

@Suite struct EventIDFilterTests {
    /// A deterministic stream of ids: random ones and UUIDv7-like ones (a clock in the
    /// first half), which the filter must spread as well.
    static func ids(_ count: Int, seed: UInt64, clocked: Bool) -> [EventID] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<count).map { index in
            EventID(high: clocked ? (UInt64(1_700_000_000_000 + index) << 16) | 0x7000 : next(), low: next())
        }
    }

    @Test(arguments: [false, true])
    func everyInsertedIDIsFoundAndFewOthersAre(clocked: Bool) {
        let inserted = Self.ids(100_000, seed: 1, clocked: clocked)
        var filter = EventIDFilter(expected: inserted.count)
        for id in inserted { filter.insert(id) }
        #expect(inserted.allSatisfy { filter.mightContain($0) })
        let known = Set(inserted)
        let others = Self.ids(100_000, seed: 2, clocked: clocked).filter { !known.contains($0) }
        let falsePositives = others.filter { filter.mightContain($0) }.count
        #expect(falsePositives < others.count / 100, "\(falsePositives) of \(others.count) fresh ids looked present")
    }

    @Test func capacityGrowsWithWhatItWasSizedFor() {
        #expect(EventIDFilter(expected: 10).capacity >= 10)
        #expect(EventIDFilter(expected: 5_000_000).capacity >= 5_000_000)
    }
}
