internal import Foundation
internal import LogbookWire
internal import Testing

@testable internal import Logbook

@Suite("Subscription state machine")
struct SubscriptionStateMachineTests {
    private let configuration = SubscriptionStateMachine.Configuration(
        creditWindow: 8,
        creditChunk: 3,
        backoffInitial: .milliseconds(50),
        backoffMax: .seconds(2)
    )

    @Test("a call opens with the whole window and grants a chunk each time the consumer takes one")
    func creditIsToppedUpInChunks() {
        var machine = SubscriptionStateMachine(from: .start, configuration: self.configuration)
        #expect(machine.startCall().initialCredit == 8)
        let grants = (1...10).map { machine.handingOutEvent(at: UInt64($0)).grant }
        #expect(grants == [nil, nil, 3, nil, nil, 3, nil, nil, 3, nil])
        // In flight or buffered never exceeds the window: 8 granted first, 9 more granted,
        // 10 taken, so at most 7 are owed.
        let granted = 8 + grants.compactMap { $0 }.reduce(0, +)
        #expect(granted - 10 <= 8)
    }

    @Test("a new call starts its credit count afresh")
    func newCallResetsCredit() {
        var machine = SubscriptionStateMachine(from: .start, configuration: self.configuration)
        _ = machine.startCall()
        _ = machine.handingOutEvent(at: 1)
        _ = machine.handingOutEvent(at: 2)
        #expect(machine.takenSinceGrant == 2)
        _ = machine.callEnded(LogbookError(code: .unavailable, message: "gone"), jitter: 0)
        #expect(machine.startCall().initialCredit == 8)
        #expect(machine.takenSinceGrant == 0)
        #expect(machine.handingOutEvent(at: 3).grant == nil)
    }

    @Test("the defaults bound the window and top it up before it runs dry")
    func standardConfiguration() {
        let standard = SubscriptionStateMachine.Configuration.standard
        #expect(standard.creditWindow == 512)
        #expect(standard.creditChunk < standard.creditWindow)
        // Out-of-range values are clamped rather than trusted.
        let odd = SubscriptionStateMachine.Configuration(creditWindow: 0, creditChunk: 50, backoffInitial: .seconds(1), backoffMax: .zero)
        #expect(odd.creditWindow == 1 && odd.creditChunk == 1 && odd.backoffMax == .seconds(1))
    }

    @Test("before any message a reconnection starts where the subscription was asked to", arguments: [
        SubscriptionStart.start, .end, .after(position: 41), .after(revision: 3),
    ])
    func resumeBeforeAnyMessage(start: SubscriptionStart) {
        var machine = SubscriptionStateMachine(from: start, configuration: self.configuration)
        #expect(machine.startCall().from == start)
        _ = machine.callEnded(LogbookError(code: .unavailable, message: "gone"), jitter: 0)
        #expect(machine.startCall().from == start)
    }

    @Test("a reconnection resumes after the last position handed out, whatever the message")
    func resumeAfterLastMessage() {
        var machine = SubscriptionStateMachine(from: .after(revision: 5), configuration: self.configuration)
        _ = machine.startCall()
        _ = machine.handingOutEvent(at: 17)
        #expect(machine.resume == .after(position: 17))
        _ = machine.handingOut(.checkpoint(30))
        #expect(machine.resume == .after(position: 30))
        _ = machine.handingOut(.caughtUp(30))
        _ = machine.handingOutEvent(at: 31)
        #expect(machine.resume == .after(position: 31))
        // A marker never moves the position back.
        _ = machine.handingOut(.checkpoint(12))
        #expect(machine.resume == .after(position: 31))
        _ = machine.callEnded(LogbookError(code: .unavailable, message: "gone"), jitter: 0)
        #expect(machine.startCall().from == .after(position: 31))
    }

    @Test("a subscription from the end learns its position from the first CaughtUp")
    func endBecomesAPosition() {
        var machine = SubscriptionStateMachine(from: .end, configuration: self.configuration)
        _ = machine.startCall()
        #expect(machine.handingOut(.caughtUp(900)).deliver)
        #expect(machine.resume == .after(position: 900))
    }

    @Test("the consumer hears CaughtUp once per catch-up, not again after a reconnection")
    func caughtUpIsNewsOnlyOnce() {
        var machine = SubscriptionStateMachine(from: .start, configuration: self.configuration)
        _ = machine.startCall()
        #expect(machine.handingOut(.caughtUp(3)).deliver)
        #expect(machine.isLive)
        _ = machine.callEnded(nil, jitter: 0)
        _ = machine.startCall()
        #expect(!machine.handingOut(.caughtUp(3)).deliver, "still live: no news")
        #expect(machine.handingOut(.fellBehind(5)).deliver)
        #expect(!machine.isLive)
        #expect(machine.handingOut(.caughtUp(20_000)).deliver, "live again: news")
        #expect(machine.handingOut(.checkpoint(20_001)).deliver)
    }

    @Test("back-off doubles from 50 ms to 2 s with jitter, and resets once a call delivers")
    func backoff() {
        var machine = SubscriptionStateMachine(from: .start, configuration: self.configuration)
        let unavailable = LogbookError(code: .unavailable, message: "gone")
        var waits: [Duration] = []
        for _ in 0..<8 {
            guard case .reconnect(let wait) = machine.callEnded(unavailable, jitter: 0.999_999) else {
                Issue.record("UNAVAILABLE must reconnect")
                return
            }
            waits.append(wait)
        }
        let milliseconds = waits.map { Int(($0 / .milliseconds(1)).rounded()) }
        #expect(milliseconds == [50, 100, 200, 400, 800, 1600, 2000, 2000])
        // The lowest jitter halves the wait, so many subscribers do not reconnect in step.
        #expect(machine.callEnded(unavailable, jitter: 0) == .reconnect(after: .seconds(1)))
        _ = machine.startCall()
        _ = machine.handingOutEvent(at: 1)
        #expect(machine.failures == 0)
        #expect(machine.callEnded(unavailable, jitter: 0.999_999) != .reconnect(after: .seconds(2)))
    }

    @Test("a refusal ends the subscription with its error", arguments: [
        LogbookError.Code.invalidArgument, .permissionDenied, .unimplemented, .internalError, .cancelled,
    ])
    func refusalsAreFinal(code: LogbookError.Code) {
        var machine = SubscriptionStateMachine(from: .start, configuration: self.configuration)
        var error = LogbookError(code: code, message: "no")
        error.isFromServer = true
        #expect(machine.callEnded(error, jitter: 0) == .fail(error))
        #expect(machine.isFailed)
    }

    @Test("the request carries the selector, start, filter and credit")
    func requestMapping() throws {
        let request = try SubscriptionStateMachine.request(
            selector: .category("order"),
            from: .after(position: 7),
            filter: ReadFilter(eventTypes: ["Paid"], streamPrefix: "order-1"),
            initialCredit: 512
        )
        #expect(request.initialCredit == 512)
        guard case .catchUp(let catchUp)? = request.target else {
            Issue.record("a catch-up request")
            return
        }
        #expect(catchUp.selector == Selector(kind: .category("order")))
        #expect(catchUp.from == StartFrom(kind: .position(7)))
        #expect(catchUp.filter == Filter(eventTypes: ["Paid"], streamPrefix: "order-1"))

        let starts: [(SubscriptionStart, StartFrom.Kind)] = [
            (.start, .start(Empty())), (.end, .end(Empty())), (.after(revision: 2), .revision(2)),
        ]
        for (start, kind) in starts {
            let mapped = try SubscriptionStateMachine.request(selector: .stream("s"), from: start, filter: nil, initialCredit: 1)
            guard case .catchUp(let catchUp)? = mapped.target else { continue }
            #expect(catchUp.from == StartFrom(kind: kind))
            #expect(catchUp.filter == nil)
        }
    }

    @Test("a revision start is only for a stream")
    func revisionNeedsAStream() {
        #expect(throws: LogbookError.self) {
            try SubscriptionStateMachine.request(selector: .all, from: .after(revision: 1), filter: nil, initialCredit: 1)
        }
    }
}

@Suite("Subscription messages")
struct SubscriptionMessageTests {
    private let event = RecordedEvent(
        stream: "order-1", revision: 2, position: 9, id: UUID(), type: "Paid", data: [], contentType: "application/json",
        timeUnixMicros: 0
    )

    @Test("every message says where the subscription stands")
    func positions() {
        #expect(SubscriptionMessage.event(self.event).position == 9)
        #expect(SubscriptionMessage.caughtUp(position: 10).position == 10)
        #expect(SubscriptionMessage.fellBehind(position: 11).position == 11)
        #expect(SubscriptionMessage.checkpoint(position: 12).position == 12)
    }

    @Test("each kind answers only its own accessor")
    func accessors() {
        let messages: [SubscriptionMessage] = [.event(self.event), .caughtUp(position: 1), .fellBehind(position: 1), .checkpoint(position: 1)]
        #expect(messages.map { $0.event != nil } == [true, false, false, false])
        #expect(messages.map(\.isCaughtUp) == [false, true, false, false])
        #expect(messages.map(\.isFellBehind) == [false, false, true, false])
        #expect(messages.map(\.isCheckpoint) == [false, false, false, true])
        #expect(messages[1] == .caughtUp(position: 1))
        #expect(messages[1] != .checkpoint(position: 1))
    }
}
