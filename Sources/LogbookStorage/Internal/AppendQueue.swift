internal import Dispatch
#if canImport(Glibc)
internal import Glibc
#endif
internal import Synchronization

/// The bounded hand-off between appending tasks (and group writes) and the single
/// writer thread.
///
/// Appenders add to `pending` under a lock; the writer takes everything that is there
/// at once (that is the group in group commit) and sleeps on a semaphore only when
/// the queue is empty. The semaphore is signalled exactly once per sleep, by whoever
/// finds the writer idle, so signals never pile up.
final class AppendQueue: Sendable {
    private enum Phase {
        case open
        case closing
        case stopped(reason: String)
    }

    private struct State {
        var pending: [PendingWrite] = []
        /// Work arrived that is not a queued write (the log engine's tail grew).
        var nudged = false
        var writerIdle = false
        var phase = Phase.open
        /// The log writer's state is in use, by the writer thread or by a caller that
        /// commits on its own thread (`tryClaim`); only for a queue whose writer takes
        /// batches with `claims`.
        var claimed = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Queues a write for the writer, or fails at once when the writer is not
    /// accepting or the queue is at its bound.
    func enqueue(_ pending: PendingWrite) throws(StorageError) {
        let wake = try state.withLock { state throws(StorageError) -> Bool in
            switch state.phase {
            case .open:
                break
            case .closing:
                throw .stopped("the event store is shutting down")
            case .stopped(let reason):
                throw .stopped(reason)
            }
            guard state.pending.count < StorageLimits.appendQueueDepthMax else {
                throw StorageError(
                    code: .overloaded,
                    message: "the append queue is full (\(StorageLimits.appendQueueDepthMax) writes waiting)")
            }
            state.pending.append(pending)
            return Self.claimWakeUpUnlessClaimed(&state)
        }
        if wake { wakeUp.signal() }
    }

    /// Queues several writes under one lock with at most one wake-up. Those the queue
    /// cannot take (past its bound, or the writer is not accepting) are failed here.
    func enqueue(contentsOf writes: [PendingWrite]) {
        var refused: (error: StorageError, from: Int)?
        let wake = state.withLock { state -> Bool in
            let error: StorageError
            switch state.phase {
            case .open:
                let room = max(0, StorageLimits.appendQueueDepthMax - state.pending.count)
                state.pending.append(contentsOf: writes.prefix(room))
                if room < writes.count {
                    refused = (StorageError(
                        code: .overloaded,
                        message: "the append queue is full (\(StorageLimits.appendQueueDepthMax) writes waiting)"), room)
                }
                return Self.claimWakeUpUnlessClaimed(&state)
            case .closing:
                error = .stopped("the event store is shutting down")
            case .stopped(let reason):
                error = .stopped(reason)
            }
            refused = (error, 0)
            return false
        }
        if wake { wakeUp.signal() }
        if let refused {
            for write in writes.dropFirst(refused.from) { write.fail(refused.error) }
        }
    }

    /// Claims the writer's state for a commit on the calling thread: only while nothing
    /// is queued (so the caller's appends are the oldest and the order of the queue holds),
    /// nobody else holds it, and the queue is open. A claim ends with `release`.
    func tryClaim() -> Bool {
        state.withLock { state in
            guard case .open = state.phase, !state.claimed, state.pending.isEmpty else { return false }
            state.claimed = true
            return true
        }
    }

    /// Ends a claim (`tryClaim`, or a batch taken with `claims`). Wakes the writer thread
    /// if it waits for the claim and has work: writes queued meanwhile, or a close.
    func release() {
        let wake = state.withLock { state -> Bool in
            state.claimed = false
            if case .open = state.phase, state.pending.isEmpty { return false }
            return Self.claimWakeUp(&state)
        }
        if wake { wakeUp.signal() }
    }

    /// Wakes the writer with no write queued: in the log engine the indexer is nudged
    /// after each log commit and takes the new events from the published tail. Coalesces:
    /// many nudges before the writer wakes are one.
    func nudge() {
        let wake = state.withLock { state -> Bool in
            guard case .open = state.phase else { return false }
            state.nudged = true
            return Self.claimWakeUp(&state)
        }
        if wake { wakeUp.signal() }
    }

    /// Why the writer stopped for good, nil while it runs (or closes normally).
    var stopReason: String? {
        state.withLock { state in
            if case .stopped(let reason) = state.phase { return reason }
            return nil
        }
    }

    /// What `takeBatch` found.
    enum Taken {
        /// Appends moved into the batch (none when only nudged).
        case batch
        /// Nothing arrived within the idle delay.
        case idle
        /// Closed or stopped and drained: the writer should exit.
        case finished
    }

    /// Blocks until appends are waiting, then moves all of them into `batch` (whose
    /// storage is recycled between batches). With `idleAfter`, gives up waiting after
    /// that long, so the writer can do background work while no one waits on it.
    /// `spins`: whether to spin briefly first (see `spinBriefly`); only the thread that
    /// answers appends gains from it.
    /// With `claims`, a batch is taken only when no one holds the writer's state (see
    /// `tryClaim`), the taker then holds it and must `release` it; and `.finished` comes only
    /// once no one holds it.
    func takeBatch(
        into batch: inout [PendingWrite], idleAfter: DispatchTimeInterval? = nil, spins: Bool = true, claims: Bool = false
    ) -> Taken {
        batch.removeAll(keepingCapacity: true)
        if spins { self.spinBriefly() }
        while true {
            let outcome = state.withLock { state -> Taken? in
                if claims, state.claimed {
                    // Someone commits on their own thread; their `release` wakes us.
                    state.writerIdle = true
                    return nil
                }
                if !state.pending.isEmpty || state.nudged {
                    swap(&state.pending, &batch)
                    state.nudged = false
                    if claims { state.claimed = true }
                    return .batch
                }
                if case .open = state.phase {
                    state.writerIdle = true
                    return nil
                }
                return .finished
            }
            if let outcome { return outcome }
            guard let idleAfter else {
                wakeUp.wait()
                continue
            }
            if wakeUp.wait(timeout: .now() + idleAfter) == .success { continue }
            // Timed out. If an enqueuer claimed the wake-up meanwhile, its signal is on
            // its way and must be consumed here, or the next sleep would end at once.
            let claimed = state.withLock { state -> Bool in
                guard state.writerIdle else { return true }
                state.writerIdle = false
                return false
            }
            if claimed {
                wakeUp.wait()
                continue
            }
            return .idle
        }
    }

    /// Waits a moment for work before the writer goes to sleep, yielding the core meanwhile.
    ///
    /// A lone client's next append arrives about one round trip after the last reply, and
    /// waking a sleeping thread costs a good part of that on a small virtual machine; under
    /// load the queue is rarely empty, so the spin rarely starts.
    private func spinBriefly() {
        let deadline = ContinuousClock.now + StorageLimits.writerSpin
        while ContinuousClock.now < deadline {
            if state.withLock({ !$0.pending.isEmpty || $0.nudged }) { return }
            sched_yield()
        }
    }

    /// Stops accepting appends; those already queued are still handed to the writer.
    func close() {
        let wake = state.withLock { state -> Bool in
            if case .open = state.phase { state.phase = .closing }
            return Self.claimWakeUp(&state)
        }
        if wake { wakeUp.signal() }
    }

    /// Refuses every later append with `reason` and returns those still queued, which
    /// the caller must fail (the writer cannot commit them any more).
    func stop(reason: String) -> [PendingWrite] {
        state.withLock { state in
            state.phase = .stopped(reason: reason)
            var drained = [PendingWrite]()
            swap(&state.pending, &drained)
            return drained
        }
    }

    /// For a write queued: while someone holds the claim the writer could not take it
    /// anyway, and `release` wakes it then; waking it now would cost it two wake-ups.
    private static func claimWakeUpUnlessClaimed(_ state: inout State) -> Bool {
        state.claimed ? false : claimWakeUp(&state)
    }

    private static func claimWakeUp(_ state: inout State) -> Bool {
        guard state.writerIdle else { return false }
        state.writerIdle = false
        return true
    }
}
