@testable internal import LogbookStorage
internal import Testing

/// An append larger than `StorageLimits.appendBytesMax`: the log engine writes an append
/// within one sync, so both engines refuse the same appends, up front, and the appends
/// queued beside it commit in both. (A data directory whose segments are smaller than the
/// default lowers the log engine's bound to what a segment holds: the hidden
/// `--log-segment-bytes` is for tests.)
@Suite(.disabled(if: StoreFixture.engine == .sqlite, "compares both engines whatever the test engine is"))
struct LargeAppendTests {
    @Test func appendAboveTheLimitIsRefusedByBothEngines() async throws {
        try await EnginePair.with { pair in
            let half = StorageLimits.appendBytesMax / 2 + 1
            let large = (0..<2).map { index in
                ProposedEvent(id: EventID(high: 2, low: UInt64(index)), type: "Large", data: Array(repeating: 7, count: half))
            }
            let appends: [[StreamWrite]] = [
                [Make.write("a-1", .noStream, [Make.event(id: EventID(high: 1, low: 1))])],
                [Make.write("large-1", .noStream, large)],
                [Make.write("a-1", .exact(0), [Make.event(id: EventID(high: 1, low: 2))])],
            ]
            let log = await EnginePair.pipelined(pair.log, appends).map(AppendOutcome.init)
            let sqlite = await EnginePair.pipelined(pair.sqlite, appends).map(AppendOutcome.init)
            #expect(log == sqlite)
            #expect(log[1].code == .invalidArgument)
            #expect(log[0].code == nil && log[2].code == nil, "the appends beside it commit")
        }
    }
}
