internal import Testing

@testable internal import LogbookServer

@Suite("Catch-up state machine")
struct CatchUpStateMachineTests {
    struct Event: CatchUpStateMachine.Event, Equatable {
        var position: UInt64
        var revision: UInt64
    }

    typealias Action = CatchUpStateMachine.ReadAction<Event>

    let t0 = ContinuousClock.now

    private func machine(cursor: UInt64 = 0, minRevision: UInt64? = nil, fellBehind: UInt64 = 100) -> CatchUpStateMachine {
        CatchUpStateMachine(
            cursor: cursor, minRevision: minRevision, batchEventsMax: 10, fellBehindEventsMin: fellBehind,
            checkpointInterval: .seconds(1), now: self.t0)
    }

    /// Events at these positions, each its own revision.
    private func events(_ positions: ClosedRange<UInt64>) -> [Event] {
        positions.map { Event(position: $0, revision: $0 - 1) }
    }

    private func sent(_ actions: [Action]) -> [UInt64] {
        actions.flatMap { action -> [UInt64] in
            if case .send(let events) = action { return events.map(\.position) }
            return []
        }
    }

    private func markers(_ actions: [Action]) -> [String] {
        actions.compactMap { action in
            switch action {
            case .send: nil
            case .sendFellBehind(let position): "fellBehind \(position)"
            case .sendCheckpoint(let position): "checkpoint \(position)"
            }
        }
    }

    @Test func readsHistoryThenSaysCaughtUpOnceThenWaits() {
        var machine = self.machine()
        #expect(machine.head(5) == .read(after: 0, upTo: 5))
        let actions = machine.read(self.events(1...5), limit: 10, upTo: 5, now: self.t0)
        #expect(self.sent(actions) == [1, 2, 3, 4, 5])
        #expect(self.markers(actions).isEmpty)
        #expect(machine.head(5) == .sendCaughtUp(5))
        #expect(machine.state == .live)
        #expect(machine.head(5) == .waitForHead(after: 5), "CaughtUp is said once")
        #expect(machine.head(7) == .read(after: 5, upTo: 7))
    }

    @Test func anEmptyLogIsCaughtUpAtOnce() {
        var machine = self.machine()
        #expect(machine.head(0) == .sendCaughtUp(0))
    }

    @Test func aFullBatchReadsOnFromItsLastEvent() {
        var machine = self.machine()
        #expect(machine.head(100) == .read(after: 0, upTo: 100))
        _ = machine.read(self.events(1...10), limit: 10, upTo: 100, now: self.t0)
        #expect(machine.cursor == 10)
        #expect(machine.head(100) == .read(after: 10, upTo: 100))
    }

    @Test func aShortBatchHasScannedToTheHead() {
        var machine = self.machine()
        _ = machine.read([Event(position: 4, revision: 0)], limit: 10, upTo: 50, now: self.t0)
        #expect(machine.cursor == 50)
        #expect(machine.head(50) == .sendCaughtUp(50))
    }

    @Test func creditBoundsTheBatch() {
        let machine = self.machine()
        #expect(machine.batchLimit(credit: 3) == 3)
        #expect(machine.batchLimit(credit: 1_000) == 10)
    }

    @Test func aStreamStartedAtARevisionSendsFromTheNextOne() {
        var machine = self.machine(minRevision: 3)
        let actions = machine.read(self.events(1...6), limit: 10, upTo: 6, now: self.t0)
        #expect(self.sent(actions) == [4, 5, 6])
        #expect(machine.cursor == 6)
    }

    @Test func aLiveSubscriberFarBehindIsToldItFellBehindAndCatchesUpAgain() {
        var machine = self.machine(fellBehind: 100)
        #expect(machine.head(0) == .sendCaughtUp(0))
        #expect(machine.head(500) == .read(after: 0, upTo: 500))
        let actions = machine.read(self.events(1...10), limit: 10, upTo: 500, now: self.t0)
        #expect(self.sent(actions) == Array(1...10))
        #expect(self.markers(actions) == ["fellBehind 10"], "after the events it sent")
        #expect(machine.state == .catchingUp)
        let rest = machine.read(self.events(11...15), limit: 10, upTo: 500, now: self.t0)
        #expect(self.markers(rest).isEmpty, "said once")
        #expect(machine.head(500) == .sendCaughtUp(500))
    }

    @Test func aLiveSubscriberALittleBehindStaysLive() {
        var machine = self.machine(fellBehind: 100)
        _ = machine.head(0)
        _ = machine.head(50)
        let actions = machine.read(self.events(1...10), limit: 10, upTo: 50, now: self.t0)
        #expect(self.markers(actions).isEmpty)
        #expect(machine.state == .live)
    }

    @Test func scanningPastUnmatchedEventsSendsACheckpointAtMostOncePerInterval() {
        var machine = self.machine()
        #expect(self.markers(machine.read([Event](), limit: 10, upTo: 20, now: self.t0)).isEmpty, "too soon")
        let later = self.t0 + .seconds(1)
        #expect(self.markers(machine.read([Event](), limit: 10, upTo: 30, now: later)) == ["checkpoint 30"])
        #expect(self.markers(machine.read([Event](), limit: 10, upTo: 40, now: later + .milliseconds(500))).isEmpty)
        #expect(self.markers(machine.read([Event](), limit: 10, upTo: 50, now: later + .seconds(1))) == ["checkpoint 50"])
    }

    @Test func aBatchWithEventsToSendNeedsNoCheckpoint() {
        var machine = self.machine()
        let actions = machine.read(self.events(1...3), limit: 10, upTo: 40, now: self.t0 + .seconds(5))
        #expect(self.sent(actions) == [1, 2, 3])
        #expect(self.markers(actions).isEmpty)
    }

    @Test func eventsLeftOutByRevisionStillCountAsScanned() {
        var machine = self.machine(minRevision: 100)
        let actions = machine.read(self.events(1...4), limit: 10, upTo: 9, now: self.t0 + .seconds(2))
        #expect(self.sent(actions).isEmpty)
        #expect(self.markers(actions) == ["checkpoint 9"])
    }
}
