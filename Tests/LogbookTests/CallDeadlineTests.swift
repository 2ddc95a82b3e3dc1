internal import Testing

@testable internal import Logbook

/// When a call stops waiting for the daemon, on explicit instants: no timing in the test.
@Suite("Call deadlines")
struct CallDeadlineTests {
    let start = ContinuousClock.now

    @Test func aCallWithATimeoutEndsByItWhateverHappens() {
        var deadline = CallDeadline(timeout: .seconds(5), reconnectWait: .seconds(30), now: self.start)
        #expect(deadline.forWaiting(now: self.start + .seconds(1)) == self.start + .seconds(5))
        #expect(deadline.lost(now: self.start + .seconds(4)) == self.start + .seconds(5))
        #expect(deadline.forWaiting(now: self.start + .seconds(4)) == self.start + .seconds(5))
    }

    @Test func withoutATimeoutEachWaitBeforeALossGetsTheWholeReconnectWait() {
        let deadline = CallDeadline(timeout: nil, reconnectWait: .seconds(30), now: self.start)
        #expect(deadline.forWaiting(now: self.start) == self.start + .seconds(30))
        #expect(deadline.forWaiting(now: self.start + .seconds(100)) == self.start + .seconds(130))
    }

    @Test func anAppendHeldLongerThanTheReconnectWaitIsStillRetriedAfterTheLoss() {
        // The daemon held the append for a minute, then went away: the call may wait the
        // reconnect wait from the loss, not from its start (which has long passed).
        var deadline = CallDeadline(timeout: nil, reconnectWait: .seconds(30), now: self.start)
        let loss = self.start + .seconds(60)
        #expect(deadline.lost(now: loss) == loss + .seconds(30))
        #expect(deadline.forWaiting(now: loss + .seconds(1)) == loss + .seconds(30))
    }

    @Test func laterLossesDoNotExtendTheFirstOnesWait() {
        // A daemon that keeps dropping the connection must not hold a call for ever.
        var deadline = CallDeadline(timeout: nil, reconnectWait: .seconds(30), now: self.start)
        let loss = self.start + .seconds(60)
        _ = deadline.lost(now: loss)
        #expect(deadline.lost(now: loss + .seconds(20)) == loss + .seconds(30))
        #expect(deadline.forWaiting(now: loss + .seconds(25)) == loss + .seconds(30))
    }
}
