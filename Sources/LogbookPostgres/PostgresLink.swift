internal import LogbookStorage
internal import Logging
internal import NIOPosix
internal import PostgresNIO
internal import Synchronization

/// One connection to PostgreSQL that is made again when it breaks: the writer's (one
/// transaction at a time, by design), the listener's, and each of the readers'
/// (`PostgresReaders`).
///
/// The store does not lease from `PostgresClient`'s pool: under load, a restart of
/// PostgreSQL left that pool (postgres-nio 1.33) with requests that were never served once
/// the server was back, and appends and reads waited forever. Here a broken connection is
/// dropped, the call fails with UNAVAILABLE, and the next call connects anew.
final class PostgresLink: Sendable {
    private let url: PostgresURL
    private let logger: Logger
    private struct State {
        var connection: PostgresConnection?
        var isClosed = false
    }

    private let state = Mutex(State())

    init(url: PostgresURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    /// Runs `body` on the connection, connecting first when there is none; a failure
    /// drops the connection when it is closed, so the next call makes a new one. For the
    /// listener, whose call lasts as long as the connection.
    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let current = try await self.current()
        do {
            return try await body(current)
        } catch {
            if current.isClosed { drop(current) }
            throw error
        }
    }

    /// Runs `body` (a read) within `StorageLimits.postgresStatementMax`, closing the
    /// connection when it takes longer, for the reason `transaction` gives.
    func timed<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await bounded(by: StorageLimits.postgresStatementMax, closingOnError: false, body)
    }

    /// Runs `body` between BEGIN and COMMIT. Any failure closes the connection instead of
    /// rolling back (PostgreSQL aborts the transaction of a closed connection), and so
    /// does a transaction that has not ended within `StorageLimits.postgresTransactionMax`:
    /// when PostgreSQL restarts, a statement in flight on a connection it cut was seen to
    /// wait for an answer that never came. The next call connects anew.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await bounded(by: StorageLimits.postgresTransactionMax, closingOnError: true) { connection in
            try await connection.query("BEGIN", logger: logger)
            let result = try await body(connection)
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// Runs `body` on the connection, racing `limit`. Taking longer closes the connection
    /// (which also fails a statement still waiting), and so does failing when
    /// `closingOnError` (a transaction, which an error leaves aborted) or when the
    /// connection broke; the next call connects anew. A read that fails otherwise (a
    /// stream that does not exist) leaves the connection to the other reads on it.
    ///
    /// The caller is answered at the limit even when `body` does not end: across a restart
    /// of PostgreSQL, the writer's call was seen never to complete nor fail (no connection
    /// left to close, no error), and the task group that raced it waited for it forever,
    /// the writer with it. Such a body is
    /// cancelled and left to end on its own; a transaction it might still commit was
    /// answered as one whose outcome is unknown, and retried appends replay it.
    private func bounded<T: Sendable>(
        by limit: Duration, closingOnError: Bool, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let used = Slot()
        let race = Race<T>()
        let work = Task {
            do {
                let current = try await self.current()
                // Given up on while connecting: the connection stays for the next call,
                // and this body does not run late.
                guard !race.isFinished else { return }
                used.value.withLock { $0 = current }
                race.finish(.success(try await body(current)))
            } catch {
                race.finish(.failure(error))
            }
        }
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil, race.finish(.failure(TimedOut())) else { return }
            work.cancel()
        }
        do {
            let result = try await race.value
            timer.cancel()
            return result
        } catch {
            timer.cancel()
            let timedOut = error is TimedOut
            if let current = used.value.withLock({ $0 }), closingOnError || timedOut || current.isClosed {
                drop(current)
                try? await current.close()
            }
            guard timedOut else { throw error }
            throw StorageError(
                code: .stopped,
                message: "PostgreSQL did not answer within \(limit)"
                    + (closingOnError ? "; an append in flight may or may not have committed: retry it with the same event ids" : ""))
        }
    }

    /// Closes the connection; later calls fail instead of connecting again.
    func close() async {
        let current = state.withLock { state in
            state.isClosed = true
            defer { state.connection = nil }
            return state.connection
        }
        try? await current?.close()
    }

    private func current() async throws -> PostgresConnection {
        let existing = try state.withLock { state throws(StorageError) -> PostgresConnection? in
            guard !state.isClosed else { throw StorageError(code: .stopped, message: "the store is closing") }
            return state.connection
        }
        if let existing, !existing.isClosed { return existing }
        let made = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: url.connectionConfiguration,
            id: Int.random(in: 1_000...Int.max), logger: logger
        ).get()
        // Readers share a link: another call may have connected meanwhile. Keep one
        // connection and close the other, so none is dropped open.
        let (kept, spare) = state.withLock { state -> (PostgresConnection?, PostgresConnection?) in
            guard !state.isClosed else { return (nil, made) }
            if let other = state.connection, !other.isClosed { return (other, made) }
            state.connection = made
            return (made, nil)
        }
        if let spare { try? await spare.close() }
        guard let kept else { throw StorageError(code: .stopped, message: "the store is closing") }
        return kept
    }

    /// Forgets `broken`, if it is still the current connection.
    private func drop(_ broken: PostgresConnection) {
        state.withLock { if $0.connection === broken { $0.connection = nil } }
    }
}

/// The connection a transaction's task took, for the code that may have to close it.
private final class Slot: Sendable {
    let value = Mutex<PostgresConnection?>(nil)
}

/// `bounded`'s limit passed before its body ended.
private struct TimedOut: Error {}

/// The first of `bounded`'s body and its timer to finish: its result goes to the caller,
/// and the other's is ignored.
private final class Race<T: Sendable>: Sendable {
    private enum State {
        case running(CheckedContinuation<T, any Error>?)
        case finished(Result<T, any Error>)
    }

    private let state = Mutex<State>(.running(nil))

    /// True when this was the first result.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let waiting = state.withLock { state -> CheckedContinuation<T, any Error>?? in
            guard case .running(let continuation) = state else { return nil }
            state = .finished(result)
            return .some(continuation)
        }
        guard let waiting else { return false }
        waiting?.resume(with: result)
        return true
    }

    var isFinished: Bool {
        state.withLock { if case .finished = $0 { true } else { false } }
    }

    /// The first result, once there is one.
    var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let finished = state.withLock { state -> Result<T, any Error>? in
                    switch state {
                    case .running:
                        state = .running(continuation)
                        return nil
                    case .finished(let result):
                        return result
                    }
                }
                if let finished { continuation.resume(with: finished) }
            }
        }
    }
}
