internal import Synchronization

/// Wakes the one task that waits for a change: the "Mutex + continuation" that
/// `CreditGate` and `GroupInbox` share.
///
/// The owner changes its own state, then rings; the waiter checks that state, and waits
/// only while it is not what it needs, checking again after every wake. A ring with nobody
/// waiting is kept for the next wait, so a change between the waiter's check and its wait
/// is never missed. A wake may be spurious (a ring whose change another check already
/// saw); the check after it makes that harmless.
final class Doorbell: Sendable {
    private enum State {
        case idle
        /// Rung with nobody waiting: the next wait returns at once.
        case rung
        case waiting(CheckedContinuation<Void, Never>)
    }

    private let state = Mutex(State.idle)

    /// Whether a task waits (for tests: the waiter is in place before they act).
    var isWaiting: Bool {
        self.state.withLock { state in
            if case .waiting = state { return true }
            return false
        }
    }

    func ring() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard case .waiting(let continuation) = state else {
                state = .rung
                return nil
            }
            state = .idle
            return continuation
        }
        waiter?.resume()
    }

    /// Returns after a ring (one while nobody waited counts) or once the task is cancelled.
    /// One task waits at a time; a second is answered at once, as if rung.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLock { state -> Bool in
                    switch state {
                    case .rung:
                        state = .idle
                        return true
                    case .waiting:
                        return true
                    case .idle:
                        if Task.isCancelled { return true }
                        state = .waiting(continuation)
                        return false
                    }
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.ring()
        }
    }
}
