internal import LogbookWire

/// The I/O around ``SubscriptionStateMachine`` for one iteration of a ``Subscription``:
/// its connection, its call, the batch being handed out, and the waits between attempts.
///
/// Everything runs in the consumer's task when it asks for the next message, so a
/// consumer that does not ask costs nothing but the window of events it was granted.
/// Events are turned into public values one at a time, not on the event loop.
final class SubscriptionIteratorStorage {
    private enum Phase {
        /// Connect and start a call now.
        case connecting
        case streaming(ClientConnection, callID: UInt64, SubscriptionStream.Producer.AsyncIterator)
        /// Connect again after this wait.
        case waiting(Duration)
        case finished
    }

    private let options: Subscription.Options
    private var machine: SubscriptionStateMachine
    private var phase = Phase.connecting
    private var batch: [LogbookWire.RecordedEvent] = []
    private var index = 0

    init(options: Subscription.Options) {
        self.options = options
        self.machine = SubscriptionStateMachine(from: options.from, configuration: options.configuration)
    }

    deinit {
        // The consumer stopped iterating: end the call on the server and let go of the
        // connection.
        if case .streaming(let connection, let callID, _) = self.phase {
            connection.cancelAndClose(callID)
        }
    }

    var hasBufferedEvents: Bool {
        self.index < self.batch.count
    }

    func next() async throws -> SubscriptionMessage? {
        while true {
            if self.index < self.batch.count {
                return try self.take()
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
                try self.checkCancellation()
                let connection: ClientConnection
                do {
                    connection = try await ClientConnection.connect(
                        socketPath: self.options.socketPath,
                        clientName: self.options.clientName
                    )
                } catch {
                    try self.callEnded(error)
                    continue
                }
                do {
                    try self.checkCancellation()
                    let (credit, from) = self.machine.startCall()
                    let request = try SubscriptionStateMachine.request(
                        selector: self.options.selector,
                        from: from,
                        filter: self.options.filter,
                        initialCredit: credit
                    )
                    let (callID, frames) = try connection.subscribe(request)
                    self.phase = .streaming(connection, callID: callID, frames)
                } catch {
                    await connection.close()
                    self.phase = .finished
                    throw error
                }

            case .streaming(let connection, let callID, var frames):
                let frame: SubscriptionFrame?
                do {
                    frame = try await frames.next()
                } catch let error as LogbookError {
                    await connection.close()
                    try self.callEnded(error)
                    continue
                } catch {
                    // Cancelled: the producer already asked the router to send Cancel.
                    await connection.close()
                    self.phase = .finished
                    throw error
                }
                guard let frame else {
                    // The server ended the call with OK: it closed its log. A subscription
                    // does not end by itself, so this is the daemon going away.
                    await connection.close()
                    try self.callEnded(nil)
                    continue
                }
                self.phase = .streaming(connection, callID: callID, frames)
                if case .events(let events) = frame {
                    self.batch = events
                    self.index = 0
                    continue
                }
                if self.machine.handingOut(frame).deliver, let message = Self.message(frame) {
                    return message
                }
            }
        }
    }

    private func take() throws -> SubscriptionMessage {
        let wire = self.batch[self.index]
        self.index += 1
        if self.index == self.batch.count {
            self.batch = []
            self.index = 0
        }
        let event: RecordedEvent
        do {
            event = try RecordedEvent(wire: wire)
        } catch {
            self.batch = []
            self.index = 0
            self.finish()
            throw error
        }
        let handout = self.machine.handingOutEvent(at: wire.position)
        if let grant = handout.grant, case .streaming(let connection, let callID, _) = self.phase {
            connection.grantCredit(callID, count: grant)
        }
        return .event(event)
    }

    /// The call or the connection ended with `error` (nil: the server ended it with OK):
    /// wait and reconnect, or fail.
    private func callEnded(_ error: (any Error)?) throws {
        let logbookError: LogbookError?
        switch error {
        case nil:
            logbookError = nil
        case let error as LogbookError:
            logbookError = error
        case let error?:
            self.phase = .finished
            throw error
        }
        switch self.machine.callEnded(logbookError, jitter: Double.random(in: 0..<1)) {
        case .reconnect(let delay):
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
        if case .streaming(let connection, let callID, _) = self.phase {
            connection.cancelAndClose(callID)
        }
        self.phase = .finished
    }

    private static func message(_ frame: SubscriptionFrame) -> SubscriptionMessage? {
        switch frame {
        case .events: nil
        case .caughtUp(let position): .caughtUp(position: position)
        case .fellBehind(let position): .fellBehind(position: position)
        case .checkpoint(let position): .checkpoint(position: position)
        }
    }
}
