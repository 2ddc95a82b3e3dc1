internal import Synchronization

/// A position that only grows (a group's checkpoint, the log's head) and the queries
/// waiting for it to reach theirs: the read-your-writes wait of `min_position`.
///
/// Waiters are resumed by the publisher, by their deadline or by cancellation, whichever
/// comes first; each exactly once.
final class PositionWatch: Sendable {
    /// A wait from the moment it has an id: its continuation arrives a moment later, and
    /// a deadline or a cancel may come in between (then `ended` says so).
    private struct Waiter {
        var target: UInt64
        var continuation: CheckedContinuation<Bool, Never>?
        var ended = false
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

    /// Moves the position forwards (never back) and wakes every waiter it satisfies.
    func publish(_ value: UInt64) {
        let ready = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard value > state.value else { return [] }
            state.value = value
            let due = state.waiters.filter { $0.value.target <= value && $0.value.continuation != nil }
            for id in due.keys { state.waiters[id] = nil }
            return due.values.compactMap(\.continuation)
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Moves the position back (a group reset); nobody waiting is woken by that.
    func reset(to value: UInt64) {
        self.state.withLock { $0.value = value }
    }

    /// Ends every wait with false: the group stopped or was deleted.
    func close() {
        let all = self.state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.compactMap(\.continuation)
        }
        for continuation in all { continuation.resume(returning: false) }
    }

    /// True once the position is at or past `target`; false when `deadline` passes first,
    /// the watch closes or the task is cancelled.
    func wait(until target: UInt64, deadline: ContinuousClock.Instant) async -> Bool {
        if self.value >= target { return true }
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            state.waiters[state.nextID] = Waiter(target: target)
            return state.nextID
        }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.end(id, reached: false)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let answer: Bool? = self.state.withLock { state in
                    let ended = state.waiters[id]?.ended ?? true
                    if state.value >= target || ended || state.closed {
                        state.waiters[id] = nil
                        return state.value >= target
                    }
                    state.waiters[id]?.continuation = continuation
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            self.end(id, reached: false)
        }
    }

    private func end(_ id: UInt64, reached: Bool) {
        let continuation = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard let waiter = state.waiters[id] else { return nil }
            guard let continuation = waiter.continuation else {
                state.waiters[id]?.ended = true  // not waiting yet: it will see this
                return nil
            }
            state.waiters[id] = nil
            return continuation
        }
        continuation?.resume(returning: reached)
    }
}
