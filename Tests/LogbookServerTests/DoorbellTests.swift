internal import Testing

@testable internal import LogbookServer

@Suite("Doorbell")
struct DoorbellTests {
    @Test func aRingWakesTheWaitingTask() async throws {
        let bell = Doorbell()
        let waiting = Task { await bell.wait() }
        try await untilWaiting { bell.isWaiting }
        bell.ring()
        await waiting.value
        #expect(!bell.isWaiting)
    }

    /// The ring between a waiter's check and its wait is the one it must not miss.
    @Test func aRingWithNobodyWaitingIsKeptForTheNextWait() async {
        let bell = Doorbell()
        bell.ring()
        bell.ring()
        await bell.wait()
        #expect(!bell.isWaiting)
    }

    @Test func aKeptRingIsUsedOnce() async throws {
        let bell = Doorbell()
        bell.ring()
        await bell.wait()
        let waiting = Task { await bell.wait() }
        try await untilWaiting { bell.isWaiting }
        bell.ring()
        await waiting.value
    }

    @Test func cancellingTheWaitingTaskEndsItsWait() async throws {
        let bell = Doorbell()
        let waiting = Task { await bell.wait() }
        try await untilWaiting { bell.isWaiting }
        waiting.cancel()
        await waiting.value
        #expect(!bell.isWaiting)
    }

    @Test func aSecondWaiterIsAnsweredAtOnce() async throws {
        let bell = Doorbell()
        let first = Task { await bell.wait() }
        try await untilWaiting { bell.isWaiting }
        await bell.wait()
        #expect(bell.isWaiting, "the first still waits")
        bell.ring()
        await first.value
    }
}
