internal import Logging

/// The I/O of one iteration of a sequence that outlives its calls and connections, a
/// ``Subscription`` or a ``GroupSubscription``: it connects, starts a call, hands out what
/// the call delivers, and when the call ends waits and connects again, or fails, as its
/// ``ResumableCalls`` decide. The loss of a call that had started and its resumption are
/// logged at info, each failed attempt at debug.
///
/// Everything runs in the consumer's task when it asks for the next element, so a consumer
/// that does not ask costs nothing but what the server was allowed to send it. Events are
/// turned into public values one at a time, not on the event loop.
///
/// ```
///   connecting ──call started──▶ streaming ──frames──▶ streaming
///        ▲                          │ the call or the connection ended
///        └────── waiting ◀──retry───┤
///                                   └──refused, cancelled, or the consumer stopped──▶ finished
/// ```
final class ResumingIterator<Calls: ResumableCalls> {
    private enum Phase {
        /// Connect and start a call now.
        case connecting
        case streaming(ResumableCall, Calls.Frames)
        /// Connect again after this wait.
        case waiting(Duration)
        case finished
    }

    private let socketPath: String
    private let clientName: String
    private var calls: Calls
    private var phase = Phase.connecting
    private let logger: Logger
    /// Since when the sequence has had no call, and how many attempts failed since; nil
    /// while a call runs, and before the first.
    private var outage: (since: ContinuousClock.Instant, failures: Int)?

    init(socketPath: String, clientName: String, logger: Logger, what: String, calls: Calls) {
        self.socketPath = socketPath
        self.clientName = clientName
        var logger = logger
        logger[metadataKey: "logbook.sequence"] = "\(what)"
        self.logger = logger
        self.calls = calls
    }

    deinit {
        // The consumer stopped iterating: end the call on the server and let go of the
        // connection.
        self.abandonCall()
    }

    /// Whether the next element is already here (the rest of a batch).
    var hasBuffered: Bool {
        self.calls.hasBuffered
    }

    func next() async throws -> Calls.Element? {
        while true {
            if let element = try self.takeBuffered() {
                return element
            }
            switch self.phase {
            case .finished:
                return nil

            case .waiting(let delay):
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    self.phase = .finished
                    throw error
                }
                self.phase = .connecting

            case .connecting:
                try await self.startCall()

            case .streaming(let call, var frames):
                let frame: Calls.Frames.Element?
                do {
                    frame = try await frames.next()
                } catch let error as LogbookError {
                    self.calls.closed(call)
                    await call.connection.close()
                    try self.ended(error)
                    continue
                } catch {
                    // Cancelled: the producer already asked the router to send Cancel.
                    self.calls.closed(call)
                    await call.connection.close()
                    self.phase = .finished
                    throw error
                }
                guard let frame else {
                    // The server ended the call with OK: it closed its log. Neither a
                    // subscription nor a group call ends by itself, so this is the daemon
                    // going away.
                    self.calls.closed(call)
                    await call.connection.close()
                    try self.ended(nil)
                    continue
                }
                self.phase = .streaming(call, frames)
                if let element = self.calls.received(frame, on: call) {
                    return element
                }
            }
        }
    }

    private func startCall() async throws {
        try self.checkCancellation()
        let connection: ClientConnection
        do {
            connection = try await ClientConnection.connect(socketPath: self.socketPath, clientName: self.clientName)
        } catch {
            try self.ended(error)
            return
        }
        do {
            try self.checkCancellation()
            let (call, frames) = try self.calls.start(on: connection)
            self.phase = .streaming(call, frames)
            if let outage = self.outage {
                self.outage = nil
                self.logger.info(
                    "resumed on a new connection to logbookd",
                    metadata: [
                        "logbook.socket": "\(self.socketPath)",
                        "logbook.attempts": "\(outage.failures + 1)",
                        "logbook.downtime": "\((ContinuousClock.now - outage.since).readable)",
                    ]
                )
            }
        } catch {
            await connection.close()
            self.phase = .finished
            throw error
        }
    }

    /// The next buffered element, handed out on the current call (none between calls).
    private func takeBuffered() throws(LogbookError) -> Calls.Element? {
        var call: ResumableCall?
        if case .streaming(let current, _) = self.phase {
            call = current
        }
        do {
            return try self.calls.takeBuffered(on: call)
        } catch {
            self.finish()
            throw error
        }
    }

    /// The call or the connection ended with `error` (nil: the server ended it with OK):
    /// wait and connect again, or fail.
    private func ended(_ error: LogbookError?) throws(LogbookError) {
        switch self.calls.ended(error) {
        case .reconnect(let delay):
            let reason = error?.message ?? "logbookd ended the call"
            if case .streaming = self.phase {
                self.outage = (ContinuousClock.now, 0)
                self.logger.info(
                    "lost its connection to logbookd; resuming",
                    metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(reason)"]
                )
            } else {
                self.outage = (self.outage?.since ?? ContinuousClock.now, (self.outage?.failures ?? 0) + 1)
                self.logger.debug(
                    "cannot reach logbookd; trying again",
                    metadata: ["logbook.socket": "\(self.socketPath)", "logbook.reason": "\(reason)", "logbook.wait": "\(delay.readable)"]
                )
            }
            self.phase = .waiting(delay)
        case .fail(let error):
            self.phase = .finished
            throw error
        }
    }

    private func checkCancellation() throws {
        if Task.isCancelled {
            self.phase = .finished
            throw CancellationError()
        }
    }

    /// Ends the iteration from inside: sends Cancel and closes the connection.
    private func finish() {
        self.abandonCall()
        self.phase = .finished
    }

    private func abandonCall() {
        if case .streaming(let call, _) = self.phase {
            self.calls.closed(call)
            call.connection.cancelAndClose(call.id)
        }
    }
}

/// One call of a ``ResumingIterator``.
struct ResumableCall {
    let connection: ClientConnection
    let id: UInt64
    /// The group consumer's number for the call (see ``GroupConsumerStateMachine``); 0 for
    /// a subscription, whose calls need none.
    let generation: UInt64
}

/// What differs between the calls of a catch-up subscription and a group consumer: how a
/// call starts, what its frames hold, and whether to start another when it ends.
protocol ResumableCalls {
    associatedtype Frames: AsyncIteratorProtocol
    associatedtype Element

    /// Whether an element is buffered (the rest of a batch).
    var hasBuffered: Bool { get }

    /// Starts a call on `connection`.
    mutating func start(on connection: ClientConnection) throws(LogbookError) -> (ResumableCall, Frames)

    /// A frame of `call` arrived: what to hand out now, if anything. Events are kept, and
    /// handed out one at a time by ``takeBuffered(on:)``.
    mutating func received(_ frame: Frames.Element, on call: ResumableCall) -> Element?

    /// The next buffered element, if there is one to hand out on `call` (nil between calls).
    /// Throws for an event the server sent malformed, having dropped the buffer.
    mutating func takeBuffered(on call: ResumableCall?) throws(LogbookError) -> Element?

    /// `call` is over, or given up.
    func closed(_ call: ResumableCall)

    /// A call or a connection ended with `error` (nil: the server said OK) after
    /// ``closed(_:)``: connect again after a wait, or fail.
    mutating func ended(_ error: LogbookError?) -> SubscriptionStateMachine.EndAction
}
