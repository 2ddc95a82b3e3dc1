@testable internal import LogbookStorage
internal import Testing

/// An append larger than the log's sync reach (`LogConfiguration.syncReachBytes`: 32 MiB
/// by default, a segment's capacity when segments are smaller). The storage limits allow
/// it (`StorageLimits.eventsPerAppendMax` events of up to `eventDataBytesMax` each) and the
/// SQLite engine appends it; the log engine refuses it with `.invalidArgument` ("a log
/// batch of … bytes is more than the log writes between two syncs; split it").
///
/// Shown on 16 KiB segments (a 12 KiB reach), so the append is 16 KiB and not 33 MiB; the
/// appends queued beside it commit in both engines.
@Suite(.disabled(if: StoreFixture.engine == .sqlite, "compares both engines whatever the test engine is"))
struct LargeAppendTests {
    @Test func appendLargerThanTheSyncReach() async throws {
        try await EnginePair.with(logSegmentBytes: EnginePair.smallSegmentBytes) { pair in
            let large = (0..<4).map { index in
                ProposedEvent(id: EventID(high: 2, low: UInt64(index)), type: "Large", data: Array(repeating: 7, count: 4_000))
            }
            let appends: [[StreamWrite]] = [
                [Make.write("a-1", .noStream, [Make.event(id: EventID(high: 1, low: 1))])],
                [Make.write("large-1", .noStream, large)],
                [Make.write("a-1", .exact(0), [Make.event(id: EventID(high: 1, low: 2))])],
            ]
            let log = await EnginePair.pipelined(pair.log, appends).map(AppendOutcome.init)
            let sqlite = await EnginePair.pipelined(pair.sqlite, appends).map(AppendOutcome.init)
            #expect(log[0] == sqlite[0])
            // Its positions differ (the log engine did not write the large append before it).
            #expect(log[2].code == nil && sqlite[2].code == nil, "the appends beside it commit in both engines")
            #expect(sqlite[1].code == nil, "the SQLite engine appends it")
            withKnownIssue("the log engine refuses an append larger than its sync reach, which the storage limits allow") {
                #expect(log[1] == sqlite[1])
            }
        }
    }
}
