package import LogbookStorage
internal import PostgresNIO

/// Stream lifecycle (issue 16) on PostgreSQL: a delete or new bounds run in a transaction
/// that first locks the head row, as an append does, so they are decided in commit order
/// with the appends of every daemon.
extension PostgresStore {
    package func deleteStream(_ stream: String, expected: ExpectedRevision, hard: Bool) async throws -> StreamLifecycle {
        try await changeLifecycle(stream, .delete(expected: expected, hard: hard))
    }

    package func setStreamBounds(_ stream: String, _ bounds: StreamLifecycle.Bounds) async throws -> StreamLifecycle {
        try await changeLifecycle(stream, .setBounds(bounds))
    }

    package func streamLifecycle(_ stream: String) async throws -> StreamLifecycle {
        try AppendValidator.checkStreamName(stream)
        let (key, logger) = (StreamName.lookupKey(stream), self.logger)
        let found = try await onReader(doing: "reading stream '\(stream)'") { connection in
            try await PostgresLifecycle.find(key, connection, logger)
        }
        return found.lifecycle ?? StreamLifecycle(lastRevision: found.head)
    }

    private func changeLifecycle(_ stream: String, _ change: LifecycleChange) async throws -> StreamLifecycle {
        try AppendValidator.checkStreamName(stream)
        let change = try change.validated()
        let (key, logger) = (StreamName.lookupKey(stream), self.logger)
        let outcome: Result<StreamLifecycle, StorageError>
        do {
            outcome = try await reader().transaction { connection in
                try await connection.query("SELECT position FROM logbook_head WHERE id = 1 FOR UPDATE", logger: logger)
                let found = try await PostgresLifecycle.find(key, connection, logger)
                let name = found.name ?? stream
                var lifecycle = found.lifecycle ?? StreamLifecycle(lastRevision: found.head)
                if case .failure(let refusal) = lifecycle.apply(change, stream: name, head: found.head) {
                    return .failure(refusal)
                }
                try await PostgresLifecycle.save(key, name, lifecycle, connection, logger)
                return .success(lifecycle)
            }
        } catch {
            throw PostgresErrors.storageError(error, doing: "changing the lifecycle of stream '\(stream)'")
        }
        return try outcome.get()
    }
}
