internal import Testing

@testable internal import LogbookServer

@Suite("Credit gate")
struct CreditGateTests {
    @Test func creditOnHandIsAvailableAtOnce() async throws {
        let gate = CreditGate(initial: 3)
        #expect(try await gate.available() == 3)
        gate.spend(2)
        #expect(try await gate.available() == 1)
    }

    @Test func spendingMoreThanIsLeftStopsAtZero() async throws {
        let gate = CreditGate(initial: 2)
        gate.spend(5)
        gate.grant(1)
        #expect(try await gate.available() == 1)
    }

    @Test func aGrantWakesTheWaitingTask() async throws {
        let gate = CreditGate(initial: 0)
        let waiting = Task { try await gate.available() }
        try await untilWaiting { gate.isWaiting }
        gate.grant(5)
        #expect(try await waiting.value == 5)
        #expect(!gate.isWaiting)
    }

    /// A grant of 0 gives nothing to send: the task keeps waiting, and the next real grant
    /// still wakes it (it used to be dropped, never resumed).
    @Test func aGrantOfZeroKeepsTheTaskWaiting() async throws {
        let gate = CreditGate(initial: 0)
        let waiting = Task { try await gate.available() }
        try await untilWaiting { gate.isWaiting }
        gate.grant(0)
        try #require(gate.isWaiting, "the waiter was dropped")
        gate.grant(4)
        #expect(try await waiting.value == 4)
    }

    @Test func grantsSaturate() async throws {
        let gate = CreditGate(initial: .max - 1)
        gate.grant(10)
        #expect(try await gate.available() == .max)
    }

    @Test func cancellingTheWaitingTaskEndsItsWait() async throws {
        let gate = CreditGate(initial: 0)
        let waiting = Task { try await gate.available() }
        try await untilWaiting { gate.isWaiting }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(!gate.isWaiting)
    }

    @Test func aTaskCancelledBeforeItWaitsDoesNotWait() async throws {
        let gate = CreditGate(initial: 0)
        let waiting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await gate.available()
        }
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
