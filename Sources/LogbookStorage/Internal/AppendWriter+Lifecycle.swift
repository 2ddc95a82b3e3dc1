internal import GRDB

extension AppendWriter {
    /// One lifecycle change inside the open transaction, in a savepoint of its own, like
    /// a group write. SQLite engine: checked here against the heads, in commit order with
    /// the appends. Log engine: the log writer decided it (`.save`); this only saves it.
    func applyLifecycle(_ write: PendingLifecycleWrite) throws(BatchFailure) -> Outcome {
        let start = mark()
        try run(statements.savepoint, failureIfOther: .fatal)
        do {
            let head = state.streams[write.stream]?.head
            let name = state.streams.lookUp(write.stream)?.name ?? write.stream
            var lifecycle = state.rules[name] ?? StreamLifecycle(lastRevision: head)
            if case .failure(let refusal) = lifecycle.apply(write.change, stream: name, head: head) {
                try rollBackAppend(to: start)
                return .failed(refusal)
            }
            try StreamLifecycleRows.save(db, name, lifecycle)
            if lifecycle.readsAsNotFound { try StreamLifecycleRows.dropParked(db, name, below: lifecycle) }
            try statements.release.execute()
            // The log engine's rules are the log writer's, which decided this change.
            if !storesTail { setRules(name, lifecycle.hasRules ? lifecycle : nil) }
            return .lifecycle(lifecycle)
        } catch {
            if let error = error as? DatabaseError, SQLiteFailure(error).endsBatch {
                throw BatchFailure(failure: SQLiteFailure(error), error: error)
            }
            try rollBackAppend(to: start)
            let message = "stream lifecycle change failed: \(error)"
            return .failed(StorageError(code: .internalError, message: message, cause: error))
        }
    }

    /// The refusal of an append to a stream whose last revision is `head`, by its
    /// expected revision and the stream's lifecycle rules; nil when it may write.
    func refusal(_ write: PreparedWrite, head: UInt64?) -> StorageError? {
        StreamLifecycle.refusal(write, head: head, lifecycle: state.rules.isEmpty ? nil : state.rules[write.stream])
    }

    /// After an append moved a stream with rules: its record follows the head (a deleted
    /// stream is recreated), undone with the append.
    func noteAppended(_ stream: String, head: UInt64) {
        guard !state.rules.isEmpty, var lifecycle = state.rules[stream] else { return }
        lifecycle.catchUp(head: head)
        setRules(stream, lifecycle)
    }

    /// Changes the writer's rules tentatively: undone with a failed savepoint or batch,
    /// published after COMMIT.
    private func setRules(_ stream: String, _ lifecycle: StreamLifecycle?) {
        undoLog.append(.rulesChanged(stream, previous: state.rules[stream]))
        state.rules[stream] = lifecycle
        rulesChanged = true
    }
}
