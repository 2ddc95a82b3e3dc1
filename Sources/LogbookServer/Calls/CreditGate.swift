internal import Synchronization

/// How many more events a subscription may send: the client grants credit, each event
/// sent spends one, and the sending task waits while there is none.
///
/// This is what bounds a subscriber that stops reading: it costs the server one batch at
/// most, never a growing queue. One task spends; any thread grants.
final class CreditGate: Sendable {
    private struct State {
        var credit: UInt64 = 0
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state: Mutex<State>

    init(initial: UInt64) {
        self.state = Mutex(State(credit: initial))
    }

    /// Adds credit (saturating) and wakes the waiting task once there is some; a grant of
    /// 0 to a gate with none leaves the task waiting.
    func grant(_ count: UInt64) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
            let (sum, overflow) = state.credit.addingReportingOverflow(count)
            state.credit = overflow ? .max : sum
            guard state.credit > 0 else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether a task waits for credit (for tests: the waiter is in place before they act).
    var isWaiting: Bool { self.state.withLock { $0.waiter != nil } }

    func spend(_ count: UInt64) {
        self.state.withLock { $0.credit -= min($0.credit, count) }
    }

    /// The credit available now, waiting until there is some; throws when the task is
    /// cancelled while waiting.
    func available() async throws -> UInt64 {
        while true {
            let credit = self.state.withLock { $0.credit }
            if credit > 0 { return credit }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.credit > 0 || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(throwing: CancellationError())
            }
            try Task.checkCancellation()
        }
    }
}
