/// The life of a client's shared connection, as a value: whether there is one, who waits
/// for one, when to try connecting again.
///
/// ``SharedConnection`` feeds it the calls that need the connection, the outcome of each
/// connection attempt, the end of a back-off wait and the loss of a connection; it answers
/// with what to do (resume these waiters, connect now, connect after this wait). It does no
/// I/O and keeps no clock, so it is tested without sockets (STYLE.md, State machines).
///
/// ```
///              a call waits, or run()           connected
///   idle ──────────────────────────▶ connecting ─────────────▶ ready
///    ▲                                 │    ▲                    │ lost: someone waits,
///    │ nobody waits any more    failed │    │ back-off elapsed   │ or run() keeps it up
///    ├──────────────────── backingOff ◀┘    │                    ▼
///    │                          └───────────┘               connecting
///    └─────────────────────────────────────────────────────── lost: nobody waits
///   any ──close()──▶ closed
/// ```
///
/// Reconnection is on demand: a lost connection is replaced when a call needs it (or while
/// `run()` keeps the client connected), so an idle client does not knock on the socket of
/// a daemon that is down. Attempts in a row wait the subscriptions' jittered exponential
/// back-off (``Reconnection/backoff(afterFailures:initial:max:jitter:)``) between them;
/// the first attempt after a loss goes at once.
package struct ConnectionStateMachine<Connection: Sendable>: Sendable {
    /// A time without a connection: since the loss (or since the first attempt of a client
    /// that never had one), and the attempts made.
    package struct Outage: Sendable, Hashable {
        /// When it started.
        package var since: ContinuousClock.Instant
        /// Connection attempts that failed in it.
        package var failures = 0
        /// Why the last attempt failed, or why the connection was lost.
        package var lastError: LogbookError?
        /// False while the client never had a connection: its first connection is not a
        /// reconnection.
        package var hadConnection: Bool
    }

    package enum State: Sendable {
        /// No connection, and no attempt under way: nobody needed one yet, or the last
        /// attempts ended with nobody waiting.
        case idle(Outage?)
        /// An attempt is under way.
        case connecting(Outage)
        /// Waiting out the back-off before the next attempt.
        case backingOff(Outage)
        /// Connected; `generation` tells this connection from earlier ones, so that the news
        /// of an old connection's loss changes nothing.
        case ready(Connection, generation: UInt64)
        /// `close()` was called: every call fails, nothing reconnects.
        case closed
    }

    /// What to do for a call that needs the connection.
    package enum WaitAction: Sendable {
        /// Send the call on this connection.
        case use(Connection, generation: UInt64)
        /// The call waits (it is registered); an attempt is under way or scheduled.
        case wait
        /// The call waits (it is registered); start an attempt now.
        case waitAndConnect
        /// The client is closed.
        case fail
    }

    /// What to do when an attempt connected.
    package enum ConnectedAction: Sendable, Hashable {
        /// Hand the connection to these waiters. `outage` is the time without a connection
        /// this ends, to log, when the client had a connection before it.
        case resume(generation: UInt64, waiters: [UInt64], outage: Outage?)
        /// The client was closed meanwhile: close the new connection.
        case close
    }

    /// What to do when an attempt failed.
    package enum AttemptFailedAction: Sendable, Hashable {
        /// Try again after this wait.
        case retry(after: Duration)
        /// Nobody needs the connection any more: stop until a call does.
        case stop
        /// The client is closed.
        case none
    }

    /// What to do when a connection was lost.
    package enum LostAction: Sendable, Hashable {
        /// Not the current connection (an older one, or the loss is known already).
        case none
        /// Log the loss and connect at once: calls wait, or `run()` keeps the client connected.
        case reconnect(LogbookError)
        /// Log the loss; the next call reconnects.
        case idle(LogbookError)
    }

    /// What the end of a back-off wait leads to.
    package enum BackoffElapsedAction: Sendable, Hashable {
        case connect
        case none
    }

    /// What closing leads to.
    package struct CloseAction: Sendable {
        /// The connection to close, if there was one.
        package var connection: Connection?
        /// The calls still waiting, to fail.
        package var waiters: [UInt64]
    }

    package private(set) var state: State
    /// The calls waiting for a connection.
    package private(set) var waiters: Set<UInt64> = []
    /// Whether `run()` keeps the client connected even when no call waits.
    package private(set) var keepsConnected = false
    private let backoffInitial: Duration
    private let backoffMax: Duration
    private var lastGeneration: UInt64 = 0

    /// A machine with no connection yet (a client made by `init` and not yet used).
    package init(backoffInitial: Duration, backoffMax: Duration) {
        self.state = .idle(nil)
        self.backoffInitial = backoffInitial
        self.backoffMax = max(backoffInitial, backoffMax)
    }

    /// A machine with a connection made already (`LogbookClient.connect`), as generation 1.
    package init(connected connection: Connection, backoffInitial: Duration, backoffMax: Duration) {
        self.init(backoffInitial: backoffInitial, backoffMax: backoffMax)
        self.lastGeneration = 1
        self.state = .ready(connection, generation: 1)
    }

    /// Why the connection is down (the last failed attempt, or the loss), if it is.
    package var lastError: LogbookError? {
        switch self.state {
        case .idle(let outage?), .connecting(let outage), .backingOff(let outage):
            return outage.lastError
        case .idle(nil), .ready, .closed:
            return nil
        }
    }

    /// Whether ``close()`` was called.
    package var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }

    /// A call needs the connection; `waiter` names it until it is resumed or gives up.
    package mutating func waitForConnection(_ waiter: UInt64, now: ContinuousClock.Instant) -> WaitAction {
        switch self.state {
        case .ready(let connection, let generation):
            return .use(connection, generation: generation)
        case .closed:
            return .fail
        case .connecting, .backingOff:
            self.waiters.insert(waiter)
            return .wait
        case .idle(let outage):
            self.waiters.insert(waiter)
            self.state = .connecting(outage ?? Outage(since: now, hadConnection: false))
            return .waitAndConnect
        }
    }

    /// A waiting call gave up (its deadline passed, or its task was cancelled). True when it
    /// was still waiting, and so is to be failed; false when it was resumed already.
    package mutating func stopWaiting(_ waiter: UInt64) -> Bool {
        self.waiters.remove(waiter) != nil
    }

    /// `run()` started: keep the client connected from now on, waiters or not.
    package mutating func keepConnected(now: ContinuousClock.Instant) -> BackoffElapsedAction {
        self.keepsConnected = true
        guard case .idle(let outage) = self.state else { return .none }
        self.state = .connecting(outage ?? Outage(since: now, hadConnection: false))
        return .connect
    }

    /// An attempt made a connection.
    package mutating func connected(_ connection: Connection) -> ConnectedAction {
        switch self.state {
        case .connecting(let outage):
            self.lastGeneration += 1
            self.state = .ready(connection, generation: self.lastGeneration)
            let waiters = self.waiters.sorted()
            self.waiters.removeAll()
            return .resume(generation: self.lastGeneration, waiters: waiters, outage: outage.hadConnection ? outage : nil)
        case .closed:
            return .close
        case .idle, .backingOff, .ready:
            // Only one attempt runs at a time, and only in `connecting`; a connection that
            // arrives otherwise is surplus.
            assertionFailure("a connection arrived while not connecting")
            return .close
        }
    }

    /// An attempt failed with `error`; `jitter` in 0..<1 spreads the back-off of many
    /// clients reconnecting at once.
    package mutating func connectFailed(_ error: LogbookError, jitter: Double) -> AttemptFailedAction {
        switch self.state {
        case .connecting(var outage):
            let wait = Reconnection.backoff(
                afterFailures: outage.failures,
                initial: self.backoffInitial,
                max: self.backoffMax,
                jitter: jitter
            )
            outage.failures += 1
            outage.lastError = error
            guard !self.waiters.isEmpty || self.keepsConnected else {
                self.state = .idle(outage)
                return .stop
            }
            self.state = .backingOff(outage)
            return .retry(after: wait)
        case .closed:
            return .none
        case .idle, .backingOff, .ready:
            assertionFailure("an attempt failed while not connecting")
            return .none
        }
    }

    /// The back-off wait is over.
    package mutating func backoffElapsed() -> BackoffElapsedAction {
        guard case .backingOff(let outage) = self.state else { return .none }
        guard !self.waiters.isEmpty || self.keepsConnected else {
            self.state = .idle(outage)
            return .none
        }
        self.state = .connecting(outage)
        return .connect
    }

    /// The connection of `generation` closed or failed with `error`.
    package mutating func connectionLost(generation: UInt64, error: LogbookError, now: ContinuousClock.Instant) -> LostAction {
        guard case .ready(_, let current) = self.state, current == generation else { return .none }
        let outage = Outage(since: now, lastError: error, hadConnection: true)
        guard !self.waiters.isEmpty || self.keepsConnected else {
            self.state = .idle(outage)
            return .idle(error)
        }
        self.state = .connecting(outage)
        return .reconnect(error)
    }

    /// The client closes: from now on every call fails and nothing reconnects.
    package mutating func close() -> CloseAction {
        var connection: Connection?
        if case .ready(let current, _) = self.state {
            connection = current
        }
        self.state = .closed
        self.keepsConnected = false
        let waiters = self.waiters.sorted()
        self.waiters.removeAll()
        return CloseAction(connection: connection, waiters: waiters)
    }
}
