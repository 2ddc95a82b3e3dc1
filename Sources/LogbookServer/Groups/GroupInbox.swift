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
        var closed = false
    }

    private let state = Mutex(State())
    private let bell = Doorbell()

    /// Whether the driver waits for a command (for tests: the waiter is in place before
    /// they act).
    var isWaiting: Bool { self.bell.isWaiting }

    func send(_ command: Command) {
        let sent = self.state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.commands.append(command)
            return true
        }
        if sent { self.bell.ring() }
    }

    func close() {
        self.state.withLock { $0.closed = true }
        self.bell.ring()
    }

    /// Everything waiting, after waiting (up to `deadline`, if any) for at least one
    /// command. Returns nil once closed and drained, or when the task is cancelled.
    func take(until deadline: ContinuousClock.Instant?) async -> [Command]? {
        if let ready = self.drain() { return ready }
        guard !self.state.withLock({ $0.closed }) else { return nil }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.bell.wait() }
            if let deadline {
                group.addTask { try? await Task.sleep(until: deadline) }
            }
            await group.next()
            group.cancelAll()
        }
        if Task.isCancelled { return nil }
        return self.drain() ?? (self.state.withLock { $0.closed } ? nil : [])
    }

    private func drain() -> [Command]? {
        self.state.withLock { state -> [Command]? in
            guard !state.commands.isEmpty else { return nil }
            defer { state.commands.removeAll(keepingCapacity: true) }
            return state.commands
        }
    }
}
