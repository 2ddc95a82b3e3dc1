internal import LogbookWire
internal import Logging
internal import NIOCore
internal import NIOPosix
internal import ServiceLifecycle
internal import Synchronization

/// The connection a client's unary calls and reads share, kept up across daemon restarts:
/// the I/O around a ``ConnectionStateMachine``.
///
/// - A call takes the current connection (one lock, no allocation, when it is up). While
///   it is down, the call waits for the next one, up to its timeout, else the client's
///   ``LogbookClient/Configuration/reconnectWait``, and then fails with `.unavailable`.
/// - A lost connection is replaced on demand: when a call needs it, or at once while
///   ``run()`` keeps the client connected. Attempts are short tasks; back-off waits are
///   timers on an event loop.
/// - A call in flight when the connection is lost fails with `.unavailable` and
///   ``LogbookError/isSafeToRetry`` set by its ``CallKind``, except an append, which is
///   sent again on the next connection (same request, same event ids) unless the
///   configuration says not to. A call that never left the client is sent again, whatever
///   it is.
///
/// The loss and the reconnection are logged at info (reason; attempts and time taken).
final class SharedConnection: Sendable {
    /// What a call does, for whether it may be sent again after its connection was lost.
    enum CallKind: Sendable, Hashable {
        case append
        case read
        case query
        /// An Admin request that only reads (list or info).
        case adminRead
        /// An Admin request that changes something, whose effect may or may not have
        /// happened when its connection was lost.
        case adminChange

        var isSafeToRetry: Bool {
            self != .adminChange
        }

        init(_ op: AdminRequest.Op) {
            switch op {
            case .listGroups, .groupInfo, .listParked, .listViews, .metrics, .getStreamMetadata:
                self = .adminRead
            case .createGroup, .updateGroup, .deleteGroup, .resetGroup, .replayParked, .defineView, .dropView, .deleteStream,
                .setStreamMetadata:
                self = .adminChange
            }
        }
    }

    /// A connection handed to a call, and its generation, to report its loss with.
    struct Lease: Sendable {
        let connection: ClientConnection
        let generation: UInt64
    }

    let socketPath: String
    let clientName: String
    let configuration: LogbookClient.Configuration
    let logger: Logger
    /// The event loop every connection of this client runs on, so that tasks that prefer
    /// it (`executor`) stay on their connection's thread across reconnections.
    let executor: EventLoopTaskExecutor
    private let state: Mutex<State>
    private let appendsRetried = Atomic<Int>(0)

    private struct State {
        var machine: ConnectionStateMachine<ClientConnection>
        var waiters: [UInt64: Waiter] = [:]
        var lastWaiterID: UInt64 = 0
        var serverInfo: ServerInfo?
        /// `run()` calls waiting for the client to be closed.
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        var isCloseFinished = false
    }

    private struct Waiter {
        var continuation: CheckedContinuation<Lease, any Error>
        /// How long the call may wait, for the error when it could not.
        var budget: Duration
        var timer: Scheduled<Void>?
    }

    /// A client not connected yet: the first call, or `run()`, connects.
    init(socketPath: String, clientName: String, configuration: LogbookClient.Configuration, logger: Logger) {
        self.socketPath = socketPath
        self.clientName = clientName
        self.executor = EventLoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next())
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(
            machine: ConnectionStateMachine(
                backoffInitial: ClientLimits.reconnectBackoffInitial,
                backoffMax: ClientLimits.reconnectBackoffMax
            )
        ))
    }

    /// A client whose first connection is made.
    init(connected connection: ClientConnection, configuration: LogbookClient.Configuration, logger: Logger) {
        self.socketPath = connection.socketPath
        self.clientName = connection.clientName
        self.executor = EventLoopTaskExecutor(connection.channel.eventLoop)
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State(
            machine: ConnectionStateMachine(
                connected: connection,
                backoffInitial: ClientLimits.reconnectBackoffInitial,
                backoffMax: ClientLimits.reconnectBackoffMax
            ),
            serverInfo: connection.serverInfo
        ))
        self.watch(connection, generation: 1)
    }

    /// What the server said in the latest handshake; nil before the first.
    var serverInfo: ServerInfo? {
        self.state.withLock { $0.serverInfo }
    }

    /// Appends sent again after a lost connection (or the daemon's UNAVAILABLE), since the
    /// client was made.
    var retriedAppends: Int {
        self.appendsRetried.load(ordering: .relaxed)
    }

    // MARK: Calls

    /// Runs a call that answers with one reply, on the current connection or the next.
    /// Its waits end by a ``CallDeadline``.
    func unary(_ body: Frame.Body, timeout: Duration?, kind: CallKind) async throws -> Frame.Body {
        var deadlines = CallDeadline(timeout: timeout, reconnectWait: self.configuration.reconnectWait, now: .now)
        var retries = 0
        while true {
            let deadline = deadlines.forWaiting(now: .now)
            let lease = try await self.lease(until: deadline)
            do {
                return try await lease.connection.unary(body, timeout: Self.remaining(timeout, until: deadline))
            } catch var error as LogbookError where error.code == .unavailable {
                if !error.isFromServer {
                    self.lost(generation: lease.generation, reason: error)
                }
                let deadline = deadlines.lost(now: .now)
                if error.wasNotSent { continue }
                guard kind == .append, self.configuration.retriesAppends, ContinuousClock.now < deadline else {
                    error.isSafeToRetry = kind.isSafeToRetry
                    throw error
                }
                retries += 1
                self.appendsRetried.add(1, ordering: .relaxed)
                self.logger.info(
                    "sending an append again: \(error.isFromServer ? "logbookd answered" : "its connection was lost") while it was in flight",
                    metadata: ["logbook.socket": "\(self.socketPath)", "logbook.attempt": "\(retries + 1)", "logbook.reason": "\(error.message)"]
                )
                if error.isFromServer {
                    // The connection is up and the daemon said UNAVAILABLE (shutting down, or
                    // its writer stopped): wait before asking again.
                    let pause = Reconnection.backoff(
                        afterFailures: retries - 1,
                        initial: ClientLimits.reconnectBackoffInitial,
                        max: ClientLimits.reconnectBackoffMax,
                        jitter: Double.random(in: 0..<1)
                    )
                    try await Task.sleep(for: min(pause, max(deadline - ContinuousClock.now, .zero)))
                }
            }
        }
    }

    /// Starts a call that answers with event batches, on the current connection or the next.
    func stream(
        _ body: Frame.Body, timeout: Duration?, deadline: ContinuousClock.Instant
    ) async throws -> (Lease, callID: UInt64, EventStream.Producer.AsyncIterator) {
        let lease = try await self.lease(until: deadline)
        let (callID, batches) = try lease.connection.stream(body, timeout: Self.remaining(timeout, until: deadline))
        return (lease, callID, batches)
    }

    /// What is left of a call's timeout; nil for none. At least a millisecond, so that a
    /// call whose time ran out while it waited still goes and hears DEADLINE_EXCEEDED.
    private static func remaining(_ timeout: Duration?, until deadline: ContinuousClock.Instant) -> Duration? {
        guard timeout != nil else { return nil }
        return max(deadline - ContinuousClock.now, .milliseconds(1))
    }

    /// The current connection, or the next one if it comes before `deadline`.
    func lease(until deadline: ContinuousClock.Instant) async throws -> Lease {
        let ready: Lease? = self.state.withLock { state in
            guard case .ready(let connection, let generation) = state.machine.state else { return nil }
            return Lease(connection: connection, generation: generation)
        }
        if let ready { return ready }
        let id = self.state.withLock { state in
            state.lastWaiterID += 1
            return state.lastWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                self.wait(id, continuation: continuation, deadline: deadline)
            }
        } onCancel: {
            self.giveUp(id, with: CancellationError())
        }
    }

    private func wait(_ id: UInt64, continuation: CheckedContinuation<Lease, any Error>, deadline: ContinuousClock.Instant) {
        enum Next {
            case resume(Lease)
            case fail(any Error)
            case wait(connect: Bool)
        }
        let now = ContinuousClock.now
        let budget = max(deadline - now, .zero)
        let next: Next = self.state.withLock { state in
            // A cancellation that came before the waiter was registered found nothing to end.
            if Task.isCancelled { return .fail(CancellationError()) }
            switch state.machine.waitForConnection(id, now: now) {
            case .use(let connection, let generation):
                return .resume(Lease(connection: connection, generation: generation))
            case .fail:
                return .fail(Self.closedError())
            case .wait:
                state.waiters[id] = Waiter(continuation: continuation, budget: budget)
                return .wait(connect: false)
            case .waitAndConnect:
                state.waiters[id] = Waiter(continuation: continuation, budget: budget)
                return .wait(connect: true)
            }
        }
        switch next {
        case .resume(let lease):
            continuation.resume(returning: lease)
        case .fail(let error):
            continuation.resume(throwing: error)
        case .wait(let connect):
            let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(budget)) {
                self.giveUp(id, with: nil)
            }
            let resumed = self.state.withLock { state in
                guard state.waiters[id] != nil else { return true }
                state.waiters[id]?.timer = timer
                return false
            }
            if resumed { timer.cancel() }
            if connect { self.attempt() }
        }
    }

    /// A waiting call's deadline passed (`error` nil) or its task was cancelled.
    private func giveUp(_ id: UInt64, with error: (any Error)?) {
        let found: (Waiter, LogbookError?)? = self.state.withLock { state in
            guard state.machine.stopWaiting(id), let waiter = state.waiters.removeValue(forKey: id) else { return nil }
            return (waiter, state.machine.lastError)
        }
        guard let (waiter, lastError) = found else { return }
        waiter.timer?.cancel()
        waiter.continuation.resume(throwing: error ?? self.unreachable(after: waiter.budget, lastError: lastError))
    }

    private func unreachable(after budget: Duration, lastError: LogbookError?) -> LogbookError {
        var message = "logbookd at \(self.socketPath) could not be reached within \(budget.readable)"
        if let lastError {
            message += ": \(lastError.message)"
        }
        var error = LogbookError(code: .unavailable, message: message, cause: lastError)
        // The call never left the client.
        error.isSafeToRetry = true
        return error
    }

    private static func closedError() -> LogbookError {
        var error = LogbookError(code: .unavailable, message: "the client was closed")
        error.isSafeToRetry = true
        return error
    }

    // MARK: Connecting

    private func attempt() {
        Task {
            do throws(LogbookError) {
                let connection = try await ClientConnection.connect(
                    socketPath: self.socketPath, clientName: self.clientName, on: self.executor.eventLoop)
                self.connected(connection)
            } catch {
                self.attemptFailed(error)
            }
        }
    }

    private func connected(_ connection: ClientConnection) {
        let (action, resumed): (ConnectionStateMachine<ClientConnection>.ConnectedAction, [Waiter]) = self.state.withLock { state in
            let action = state.machine.connected(connection)
            guard case .resume(_, let ids, _) = action else { return (action, []) }
            state.serverInfo = connection.serverInfo
            return (action, ids.compactMap { state.waiters.removeValue(forKey: $0) })
        }
        switch action {
        case .close:
            connection.channel.close(promise: nil)
        case .resume(let generation, _, let outage):
            self.watch(connection, generation: generation)
            if let outage {
                self.logger.info(
                    "reconnected to logbookd",
                    metadata: [
                        "logbook.socket": "\(self.socketPath)",
                        "logbook.attempts": "\(outage.failures + 1)",
                        "logbook.downtime": "\((ContinuousClock.now - outage.since).readable)",
                    ]
                )
            } else {
                self.logger.debug("connected to logbookd", metadata: ["logbook.socket": "\(self.socketPath)"])
            }
            let lease = Lease(connection: connection, generation: generation)
            for waiter in resumed {
                waiter.timer?.cancel()
                waiter.continuation.resume(returning: lease)
            }
        }
    }

    private func attemptFailed(_ error: LogbookError) {
        let action = self.state.withLock { $0.machine.connectFailed(error, jitter: Double.random(in: 0..<1)) }
        switch action {
        case .retry(let wait):
            self.logger.debug(
                "cannot reach logbookd; trying again",
                metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(error.message)", "logbook.wait": "\(wait.readable)"]
            )
            MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(wait)) {
                self.backoffElapsed()
            }
        case .stop:
            self.logger.debug(
                "cannot reach logbookd; no call waits, so the next one tries again",
                metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(error.message)"]
            )
        case .none:
            break
        }
    }

    private func backoffElapsed() {
        if self.state.withLock({ $0.machine.backoffElapsed() }) == .connect {
            self.attempt()
        }
    }

    /// Hears when `connection` closes. Weakly: a client dropped without `close()` closes its
    /// connection as it goes (``ClientConnection`` does in `deinit`).
    private func watch(_ connection: ClientConnection, generation: UInt64) {
        connection.whenClosed { [weak self] reason in
            self?.lost(generation: generation, reason: reason)
        }
    }

    /// The connection of `generation` is gone (a call saw it fail, or it closed).
    func lost(generation: UInt64, reason: LogbookError) {
        let action = self.state.withLock { $0.machine.connectionLost(generation: generation, error: reason, now: .now) }
        switch action {
        case .none:
            return
        case .reconnect(let error):
            self.logger.info(
                "lost the connection to logbookd; reconnecting",
                metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(error.message)"]
            )
            self.attempt()
        case .idle(let error):
            self.logger.info(
                "lost the connection to logbookd; the next call reconnects",
                metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(error.message)"]
            )
        }
    }

    // MARK: Life

    /// Keeps the client connected until it is closed, cancelled, or shut down gracefully,
    /// then closes it.
    func run() async {
        let connect = self.state.withLock { $0.machine.isClosed ? .none : $0.machine.keepConnected(now: .now) }
        if connect == .connect {
            self.attempt()
        }
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let finished = self.state.withLock { state in
                    if state.isCloseFinished { return true }
                    state.closeWaiters.append(continuation)
                    return false
                }
                if finished { continuation.resume() }
            }
        } onCancelOrGracefulShutdown: {
            Task { await self.close() }
        }
    }

    /// Closes the connection; waiting calls fail, calls in flight fail with `.unavailable`,
    /// and nothing reconnects.
    func close() async {
        let (action, waiters) = self.state.withLock { state in
            let action = state.machine.close()
            return (action, action.waiters.compactMap { state.waiters.removeValue(forKey: $0) })
        }
        for waiter in waiters {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: Self.closedError())
        }
        if let connection = action.connection {
            await connection.close()
        }
        let closeWaiters = self.state.withLock { state in
            state.isCloseFinished = true
            defer { state.closeWaiters.removeAll() }
            return state.closeWaiters
        }
        for waiter in closeWaiters {
            waiter.resume()
        }
    }
}
