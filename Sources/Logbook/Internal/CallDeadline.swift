/// When a call stops waiting for the daemon: at its timeout, counted from its start; or,
/// without one, the reconnect wait after it first found the daemon gone. Not from its
/// start: an append the daemon held for longer than the reconnect wait before the
/// connection was lost must still be sent again (in CI such an append was given up).
package struct CallDeadline: Sendable, Hashable {
    private let call: ContinuousClock.Instant?
    private let reconnectWait: Duration
    private var outage: ContinuousClock.Instant?

    package init(timeout: Duration?, reconnectWait: Duration, now: ContinuousClock.Instant) {
        self.call = timeout.map { now + $0 }
        self.reconnectWait = reconnectWait
    }

    /// Until when a wait for a connection that starts `now` may last.
    package func forWaiting(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        self.call ?? self.outage ?? now + self.reconnectWait
    }

    /// The call found the connection lost `now`: the first loss starts the reconnect wait
    /// of a call without a timeout. Returns the deadline from here on.
    package mutating func lost(now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        if let call { return call }
        let outage = self.outage ?? now + self.reconnectWait
        self.outage = outage
        return outage
    }
}
