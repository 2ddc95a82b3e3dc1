/// Stream lifecycle (issue 16): deletes and bounds, decided by the store's one writer in
/// commit order with the appends, and hidden from reads at once (`StreamRules`).
extension EventStore {
    /// Deletes `stream` if `expected` holds: soft (`hard` false), so that it reads as not
    /// found until an append recreates it, or for good. Returns its lifecycle after.
    package func deleteStream(_ stream: String, expected: ExpectedRevision, hard: Bool) async throws -> StreamLifecycle {
        try await submit(stream, .delete(expected: expected, hard: hard))
    }

    /// Replaces `stream`'s bounds (max count, max age, truncate before); events past them
    /// are hidden from the next read on.
    package func setStreamBounds(_ stream: String, _ bounds: StreamLifecycle.Bounds) async throws -> StreamLifecycle {
        try await submit(stream, .setBounds(bounds))
    }

    /// `stream`'s lifecycle now: its last revision, bounds and delete state.
    package func streamLifecycle(_ stream: String) throws -> StreamLifecycle {
        try AppendValidator.checkStreamName(stream)
        let head = try streamRevision(stream)
        var lifecycle = rules.lifecycle(of: stream) ?? StreamLifecycle(lastRevision: head)
        lifecycle.catchUp(head: head)
        return lifecycle
    }

    private func submit(_ stream: String, _ change: LifecycleChange) async throws -> StreamLifecycle {
        try checkOpen()
        try AppendValidator.checkStreamName(stream)
        let change = try change.validated()
        // The log engine's writer decides it (it owns the heads) and has the indexer save
        // it; the SQLite engine's writer does both. Never committed on the caller's thread.
        let queue = logQueue ?? self.queue
        return try await withCheckedThrowingContinuation { continuation in
            do {
                try queue.enqueue(.lifecycle(PendingLifecycleWrite(stream: stream, change: change) {
                    continuation.resume(with: $0)
                }))
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
