internal import Synchronization

/// A position that only grows (a group's checkpoint, the log's head) and the queries
/// waiting for it to reach theirs: the read-your-writes wait of `min_position`.
///
/// Waiters are resumed by the publisher, by their deadline, by `close` or by
/// cancellation, whichever comes first; each exactly once.
final class PositionWatch: Sendable {
    /// How a wait ended.
    enum Outcome: Sendable, Equatable {
        /// The position reached the target.
        case reached
        /// The deadline passed first.
        case deadline
        /// The watch closed first: the group was deleted or the server is stopping.
        case closed
        /// The waiting task was cancelled.
        case cancelled
    }

    /// A wait from the moment it has an id: its continuation arrives a moment later, and
    /// a deadline or a cancel may come in between (then `ended` holds the outcome).
    private struct Waiter {
        var target: UInt64
        var continuation: CheckedContinuation<Outcome, Never>?
        var ended: Outcome?
    }

    private struct State {
        var value: UInt64
        var closed = false
        var nextID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state: Mutex<State>

    init(_ value: UInt64) {
        self.state = Mutex(State(value: value))
    }

    var value: UInt64 { self.state.withLock { $0.value } }

    /// Waits that have not ended yet (for tests: a waiter is in place before they act).
    var waiting: Int { self.state.withLock { $0.waiters.count } }

    /// Moves the position forwards (never back) and wakes every waiter it satisfies.
    func publish(_ value: UInt64) {
        let ready = self.state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            guard value > state.value else { return [] }
            state.value = value
            let due = state.waiters.filter { $0.value.target <= value && $0.value.continuation != nil }
            for id in due.keys { state.waiters[id] = nil }
            return due.values.compactMap(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: .reached) }
    }

    /// Moves the position back (a group reset); nobody waiting is woken by that.
    func reset(to value: UInt64) {
        self.state.withLock { $0.value = value }
    }

    /// Ends every wait, now and later, with `.closed`: the group was deleted or the
    /// server is stopping.
    func close() {
        let all = self.state.withLock { state -> [CheckedContinuation<Outcome, Never>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.compactMap(\.continuation)
        }
        for continuation in all { continuation.resume(returning: .closed) }
    }

    /// Waits until the position is at or past `target`, `deadline` passes, the watch
    /// closes or the task is cancelled.
    func wait(until target: UInt64, deadline: ContinuousClock.Instant) async -> Outcome {
        let id: UInt64
        switch self.register(target) {
        case .ended(let outcome): return outcome
        case .registered(let registered): id = registered
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.end(id, .deadline)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ended: Outcome? = self.state.withLock { state in
                    if state.value >= target {
                        state.waiters[id] = nil
                        return .reached
                    }
                    if let ended = state.waiters[id]?.ended ?? (state.closed ? .closed : nil) {
                        state.waiters[id] = nil
                        return ended
                    }
                    state.waiters[id]?.continuation = continuation
                    return nil
                }
                if let ended { continuation.resume(returning: ended) }
            }
        } onCancel: {
            self.end(id, .cancelled)
        }
    }

    private enum Registration {
        case ended(Outcome)
        case registered(UInt64)
    }

    /// A waiter for `target`, unless the wait is over before it starts.
    private func register(_ target: UInt64) -> Registration {
        self.state.withLock { state in
            if state.value >= target { return .ended(.reached) }
            if state.closed { return .ended(.closed) }
            defer { state.nextID += 1 }
            state.waiters[state.nextID] = Waiter(target: target)
            return .registered(state.nextID)
        }
    }

    private func end(_ id: UInt64, _ outcome: Outcome) {
        let continuation = self.state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard let waiter = state.waiters[id] else { return nil }
            guard let continuation = waiter.continuation else {
                state.waiters[id]?.ended = waiter.ended ?? outcome  // not waiting yet: it will see this
                return nil
            }
            state.waiters[id] = nil
            return continuation
        }
        continuation?.resume(returning: outcome)
    }
}
