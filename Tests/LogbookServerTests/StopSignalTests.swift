internal import Testing

@testable internal import LogbookServer

@Suite("Stop signal")
struct StopSignalTests {
    @Test func aSignalWakesTheWaitingTaskWithItsReason() async throws {
        let stop = StopSignal()
        let waiting = Task { await stop.wait() }
        try await untilWaiting { stop.isWaiting }
        stop.signal(.cancelledByClient)
        #expect(await waiting.value == .cancelledByClient)
        #expect(stop.reason == .cancelledByClient)
    }

    @Test func aSignalBeforeTheWaitIsSeenAtOnce() async {
        let stop = StopSignal()
        stop.signal(.shutdown)
        #expect(await stop.wait() == .shutdown)
    }

    @Test func theFirstReasonWins() async {
        let stop = StopSignal()
        stop.signal(.shutdown)
        stop.signal(.cancelledByClient)
        #expect(stop.reason == .shutdown)
        #expect(await stop.wait() == .shutdown)
    }

    @Test func cancellingTheWaitingTaskEndsItsWaitWithNoReason() async throws {
        let stop = StopSignal()
        let waiting = Task { await stop.wait() }
        try await untilWaiting { stop.isWaiting }
        waiting.cancel()
        #expect(await waiting.value == nil)
        stop.signal(.shutdown)
        #expect(stop.reason == nil, "a signal after the waiter left has no one to stop")
    }

    @Test func aSecondWaiterIsAnsweredAtOnce() async throws {
        let stop = StopSignal()
        let first = Task { await stop.wait() }
        try await untilWaiting { stop.isWaiting }
        #expect(await stop.wait() == nil)
        stop.signal(.shutdown)
        #expect(await first.value == .shutdown)
    }
}
