internal import Synchronization

/// Tells a running call to stop, and why, from outside the call's task.
///
/// A client's `Cancel`, the server's shutdown and the connection closing all end a call the
/// same way: the first reason given wins and wakes `wait()`, which the call races against its
/// work.
final class StopSignal: Sendable {
    enum Reason: Sendable, Equatable {
        case cancelledByClient
        case shutdown
    }

    private enum State {
        case idle
        case waiting(CheckedContinuation<Reason?, Never>)
        case signalled(Reason)
        case abandoned
    }

    private let state = Mutex<State>(.idle)

    var reason: Reason? {
        self.state.withLock { state in
            if case .signalled(let reason) = state { return reason }
            return nil
        }
    }

    /// Whether a task waits for the signal (for tests: the waiter is in place before they act).
    var isWaiting: Bool {
        self.state.withLock { state in
            if case .waiting = state { return true }
            return false
        }
    }

    func signal(_ reason: Reason) {
        let continuation: CheckedContinuation<Reason?, Never>? = self.state.withLock { state in
            switch state {
            case .idle:
                state = .signalled(reason)
                return nil
            case .waiting(let continuation):
                state = .signalled(reason)
                return continuation
            case .signalled, .abandoned:
                return nil
            }
        }
        continuation?.resume(returning: reason)
    }

    /// Returns the reason once signalled, or nil when the waiting task is cancelled.
    func wait() async -> Reason? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Reason?, Never>) in
                let resume: Reason?? = self.state.withLock { state in
                    switch state {
                    case .idle:
                        state = .waiting(continuation)
                        return nil
                    case .signalled(let reason):
                        return .some(reason)
                    case .abandoned:
                        return .some(nil)
                    case .waiting:
                        // One waiter per call; a second is a programming error, answer it at once.
                        return .some(nil)
                    }
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Reason?, Never>? = self.state.withLock { state in
                switch state {
                case .waiting(let continuation):
                    state = .abandoned
                    return continuation
                case .idle:
                    state = .abandoned
                    return nil
                case .signalled, .abandoned:
                    return nil
                }
            }
            continuation?.resume(returning: nil)
        }
    }
}
