internal import Synchronization

/// The commands a group's driver task works through: consumers joining, leaving, acking,
/// and the log's head moving. Senders never wait; the driver takes everything waiting at
/// once, or waits until something arrives or its next deadline comes.
///
/// Unbounded by design but bounded in fact: acks and nacks are bounded by deliveries in
/// flight, joins and leaves by connections, and head changes coalesce into one command.
final class GroupInbox<Command: Sendable>: Sendable {
    private struct State {
        var commands: [Command] = []
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    func send(_ command: Command) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.closed else { return nil }
            state.commands.append(command)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Whether the driver waits for a command (for tests: the waiter is in place before
    /// they act).
    var isWaiting: Bool { self.state.withLock { $0.waiter != nil } }

    func close() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Everything waiting, after waiting (up to `deadline`, if any) for at least one
    /// command. Returns nil once closed and drained, or when the task is cancelled.
    func take(until deadline: ContinuousClock.Instant?) async -> [Command]? {
        if let ready = self.drain() { return ready }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if !state.commands.isEmpty || state.closed || Task.isCancelled { return true }
                            state.waiter = continuation
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.wake()
                }
            }
            if let deadline {
                group.addTask {
                    try? await Task.sleep(until: deadline)
                    self.wake()
                }
            }
            await group.next()
            group.cancelAll()
        }
        if Task.isCancelled { return nil }
        return self.drain() ?? (self.state.withLock { $0.closed } ? nil : [])
    }

    private func wake() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func drain() -> [Command]? {
        self.state.withLock { state -> [Command]? in
            guard !state.commands.isEmpty else { return nil }
            defer { state.commands.removeAll(keepingCapacity: true) }
            return state.commands
        }
    }
}
