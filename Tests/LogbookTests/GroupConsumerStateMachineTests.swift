internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("Group consumer state machine")
struct GroupConsumerStateMachineTests {
    typealias Machine = GroupConsumerStateMachine<String>

    private let configuration = SubscriptionStateMachine.Configuration(
        creditWindow: 8,
        creditChunk: 3,
        backoffInitial: .milliseconds(50),
        backoffMax: .seconds(2)
    )

    private func isSend(_ action: Machine.SettleAction) -> Bool {
        if case .send = action { return true }
        return false
    }

    @Test("an ack is sent and its waiter resumes when Settled names it, not before")
    func ackWaitsForSettled() {
        var machine = Machine(configuration: self.configuration)
        let call = machine.startCall()
        #expect(machine.received([1, 2, 3]).isEmpty)
        #expect(self.isSend(machine.settle(2, generation: call, .ack, waiter: "w2")))
        #expect(self.isSend(machine.settle(1, generation: call, .ack, waiter: nil)))
        #expect(machine.settled([3], generation: call).isEmpty, "3 was never acked")
        #expect(machine.settled([1, 2], generation: call) == ["w2"])
        #expect(machine.unconfirmedCount == 1)
        // Settled again (a duplicate frame) resumes nobody twice.
        #expect(machine.settled([2], generation: call).isEmpty)
    }

    @Test("park and skip wait for Settled; a retry has nothing to confirm")
    func nackConfirmation() {
        var machine = Machine(configuration: self.configuration)
        let call = machine.startCall()
        _ = machine.received([1, 2, 3])
        #expect(self.isSend(machine.settle(1, generation: call, .nack(.park), waiter: "park")))
        #expect(self.isSend(machine.settle(2, generation: call, .nack(.skip), waiter: "skip")))
        guard case .sendAndResume(let waiter) = machine.settle(3, generation: call, .nack(.retry), waiter: "retry") else {
            Issue.record("a retry is sent and resumed at once")
            return
        }
        #expect(waiter == "retry")
        #expect(machine.settled([1, 2], generation: call).sorted() == ["park", "skip"])
        #expect(machine.unconfirmedCount == 0)
    }

    @Test("a delivery settled twice is sent once; the second waiter waits for the first settlement")
    func settledTwice() {
        var machine = Machine(configuration: self.configuration)
        let call = machine.startCall()
        _ = machine.received([7])
        #expect(self.isSend(machine.settle(7, generation: call, .ack, waiter: "first")))
        guard case .alreadySent = machine.settle(7, generation: call, .nack(.retry), waiter: "second") else {
            Issue.record("the second settlement must not be sent")
            return
        }
        #expect(machine.settled([7], generation: call).sorted() == ["first", "second"])
        guard case .drop("late", let error) = machine.settle(7, generation: call, .ack, waiter: "late") else {
            Issue.record("a confirmed delivery cannot be settled again")
            return
        }
        #expect(error.code == .failedPrecondition)
    }

    @Test("a delivery from an earlier call is never settled on the new one, though its id is reused")
    func staleGenerationIsDropped() {
        var machine = Machine(configuration: self.configuration)
        let first = machine.startCall()
        _ = machine.received([1, 2])
        #expect(self.isSend(machine.settle(1, generation: first, .ack, waiter: "pending")))
        #expect(machine.callClosed(generation: first) == ["pending"], "the outcome of an unconfirmed ack is unknown")
        #expect(machine.callClosed(generation: first).isEmpty, "closing is idempotent")
        // Before and after the next call starts, acking a delivery of the first sends nothing.
        guard case .drop("early", let gone) = machine.settle(2, generation: first, .ack, waiter: "early") else {
            Issue.record("expected the ack to be dropped")
            return
        }
        #expect(gone.code == .unavailable)
        let second = machine.startCall()
        #expect(second != first)
        _ = machine.received([1, 2])  // the restarted daemon numbers from 1 again
        guard case .drop = machine.settle(2, generation: first, .ack, waiter: nil) else {
            Issue.record("delivery 2 of the old call must not ack delivery 2 of the new one")
            return
        }
        #expect(machine.unconfirmedCount == 2)
        // A Settled from the old call's hooks arriving late confirms nothing.
        #expect(machine.settled([1], generation: first).isEmpty)
    }

    @Test("UNAVAILABLE, a lost connection and an OK end rejoin with growing back-off; other codes fail", arguments: [
        (LogbookError.Code?.none, true),
        (.some(.unavailable), true),
        (.some(.notFound), false),
        (.some(.permissionDenied), false),
        (.some(.invalidArgument), false),
    ])
    func reconnectDecision(code: LogbookError.Code?, rejoins: Bool) {
        var machine = Machine(configuration: self.configuration)
        let call = machine.startCall()
        _ = machine.callClosed(generation: call)
        let error = code.map { LogbookError(code: $0, message: "ended") }
        switch machine.callEnded(error, jitter: 0.999) {
        case .reconnect(let delay):
            #expect(rejoins)
            #expect(delay > .milliseconds(49) && delay <= .milliseconds(50))
            #expect(!machine.isFailed)
        case .fail(let failure):
            #expect(!rejoins)
            #expect(failure.code == code)
            #expect(machine.isFailed)
        }
    }

    @Test("back-off doubles per failed attempt up to the maximum, and a delivery resets it")
    func backoffGrowsAndResets() {
        var machine = Machine(configuration: self.configuration)
        var delays: [Duration] = []
        for _ in 0..<8 {
            let call = machine.startCall()
            _ = machine.callClosed(generation: call)
            guard case .reconnect(let delay) = machine.callEnded(nil, jitter: 0.999_999) else { return }
            delays.append(delay)
        }
        let millis = delays.map { Int(($0 / .milliseconds(1)).rounded()) }
        #expect(millis == [50, 100, 200, 400, 800, 1600, 2000, 2000])
        let call = machine.startCall()
        _ = machine.received([1])
        _ = machine.callClosed(generation: call)
        guard case .reconnect(let delay) = machine.callEnded(LogbookError(code: .unavailable, message: "restart"), jitter: 0) else {
            Issue.record("expected a reconnection")
            return
        }
        #expect(delay == .milliseconds(25), "half the initial back-off at the lowest jitter")
    }

    @Test("the call state machine hands group batches out and Settled to the hooks")
    func callShape() {
        var call = CallStateMachine(shape: .group)
        let batch = EventBatch(
            events: [LogbookWire.RecordedEvent(stream: "s", revision: 0, position: 1)],
            deliveries: [Delivery(deliveryID: 9, attempt: 1)]
        )
        #expect(call.receive(.eventBatch(batch)) == .deliverGroup(batch))
        #expect(call.receive(.settled(Settled(deliveryIDs: [9]))) == .settled([9]))
        let mismatched = EventBatch(events: batch.events, deliveries: [])
        guard case .failAndSendCancel = call.receive(.eventBatch(mismatched)) else {
            Issue.record("events without their deliveries break the protocol")
            return
        }
        var catchUp = CallStateMachine(shape: .subscription)
        guard case .failAndSendCancel = catchUp.receive(.settled(Settled(deliveryIDs: [1]))) else {
            Issue.record("a catch-up subscription gets no Settled")
            return
        }
        var ended = CallStateMachine(shape: .group)
        #expect(ended.receive(.status(Status(code: .ok))) == .finishStream)
    }
}
