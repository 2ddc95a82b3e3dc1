internal import Testing

@testable internal import LogbookServer

@Suite("Position watch")
struct PositionWatchTests {
    /// A deadline no test reaches.
    private var later: ContinuousClock.Instant { .now + .seconds(600) }

    @Test func aPositionAlreadyReachedAnswersAtOnce() async {
        let watch = PositionWatch(5)
        #expect(await watch.wait(until: 5, deadline: self.later) == .reached)
        #expect(await watch.wait(until: 3, deadline: self.later) == .reached)
    }

    @Test func publishingWakesTheWaitersItSatisfiesOnly() async throws {
        let watch = PositionWatch(0)
        let near = Task { await watch.wait(until: 3, deadline: self.later) }
        let far = Task { await watch.wait(until: 10, deadline: self.later) }
        try await untilWaiting { watch.waiting == 2 }
        watch.publish(4)
        #expect(await near.value == .reached)
        #expect(watch.waiting == 1)
        watch.publish(10)
        #expect(await far.value == .reached)
        #expect(watch.value == 10)
    }

    @Test func theValueNeverMovesBackByPublishing() {
        let watch = PositionWatch(7)
        watch.publish(3)
        #expect(watch.value == 7)
        watch.reset(to: 2)
        #expect(watch.value == 2, "a reset moves it back")
    }

    @Test func aPassedDeadlineEndsTheWait() async {
        let watch = PositionWatch(0)
        #expect(await watch.wait(until: 1, deadline: .now) == .deadline)
        #expect(watch.waiting == 0)
    }

    @Test func closingEndsEveryWaitAndLaterOnes() async throws {
        let watch = PositionWatch(0)
        let waiting = Task { await watch.wait(until: 1, deadline: self.later) }
        try await untilWaiting { watch.waiting == 1 }
        watch.close()
        #expect(await waiting.value == .closed)
        #expect(await watch.wait(until: 1, deadline: self.later) == .closed)
        #expect(await watch.wait(until: 0, deadline: self.later) == .reached)
    }

    @Test func cancellingTheWaitingTaskEndsItsWait() async throws {
        let watch = PositionWatch(0)
        let waiting = Task { await watch.wait(until: 1, deadline: self.later) }
        try await untilWaiting { watch.waiting == 1 }
        waiting.cancel()
        #expect(await waiting.value == .cancelled)
        #expect(watch.waiting == 0)
    }
}
