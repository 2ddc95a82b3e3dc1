/// The retries of a sequence that outlives its calls, a catch-up subscription's or a group
/// consumer's: how many calls in a row ended before delivering anything, whether a refusal
/// ended the sequence, and how long to wait before the next call.
///
/// The wait is the initial back-off doubled per failure up to the maximum, then between
/// half and all of it (`jitter` in 0..<1), so many consumers reconnecting at once spread out.
package struct Reconnection: Sendable {
    package let configuration: SubscriptionStateMachine.Configuration
    /// Calls in a row that ended before delivering anything.
    package private(set) var failures = 0
    /// Whether a refusal ended the sequence.
    package private(set) var isFailed = false

    package init(configuration: SubscriptionStateMachine.Configuration) {
        self.configuration = configuration
    }

    /// Something arrived on a call: the connection works, and the next failure waits the
    /// initial back-off again.
    package mutating func delivered() {
        self.failures = 0
    }

    /// A call ended with `error` (nil: the server said OK), or a connection could not be
    /// made: connect again after a wait, or fail.
    ///
    /// Only `.unavailable` is worth another call: the daemon went away, is restarting, or
    /// restarted a group. A refusal (a bad selector, a missing permission, a group that is
    /// gone) would be refused again.
    package mutating func callEnded(_ error: LogbookError?, jitter: Double) -> SubscriptionStateMachine.EndAction {
        if let error, error.code != .unavailable {
            self.isFailed = true
            return .fail(error)
        }
        let wait = Self.backoff(
            afterFailures: self.failures,
            initial: self.configuration.backoffInitial,
            max: self.configuration.backoffMax,
            jitter: jitter
        )
        self.failures += 1
        return .reconnect(after: wait)
    }

    /// The wait before the next attempt when `failures` attempts in a row failed before
    /// this one: `initial` doubled per failure up to `max`, then between half and all of
    /// it (`jitter` in 0..<1). The client's shared connection waits the same way.
    package static func backoff(afterFailures failures: Int, initial: Duration, max maximum: Duration, jitter: Double) -> Duration {
        let exponent = min(max(failures, 0), 30)
        var backoff = initial * (1 << exponent)
        if backoff > maximum || backoff < .zero {
            backoff = maximum
        }
        return backoff * (0.5 + 0.5 * min(max(jitter, 0), 1))
    }
}
