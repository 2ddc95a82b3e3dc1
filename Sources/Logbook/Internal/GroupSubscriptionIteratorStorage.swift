internal import LogbookWire

/// The I/O around ``GroupConsumer`` for one iteration of a ``GroupSubscription``: its
/// connection, its call, the batch being handed out, and the waits between attempts.
///
/// Shaped like ``SubscriptionIteratorStorage``: everything runs in the consumer's task when
/// it asks for the next delivery. Deliveries still buffered when their call ends are
/// dropped rather than handed out: they could no longer be settled, and the daemon gives
/// them to a consumer again.
final class GroupSubscriptionIteratorStorage {
    private enum Phase {
        case connecting
        case streaming(ClientConnection, callID: UInt64, generation: UInt64, GroupStream.Producer.AsyncIterator)
        case waiting(Duration)
        case finished
    }

    private let options: GroupSubscription.Options
    private let consumer: GroupConsumer
    private var phase = Phase.connecting
    private var batch = EventBatch()
    private var index = 0

    init(options: GroupSubscription.Options) {
        self.options = options
        self.consumer = GroupConsumer(configuration: options.configuration)
    }

    deinit {
        if case .streaming(let connection, let callID, let generation, _) = self.phase {
            self.consumer.callClosed(generation: generation)
            connection.cancelAndClose(callID)
        }
    }

    var hasBufferedDeliveries: Bool {
        self.index < self.batch.events.count
    }

    func next() async throws -> GroupDelivery? {
        while true {
            if self.index < self.batch.events.count {
                if case .streaming(_, _, let generation, _) = self.phase, self.consumer.isCallOpen(generation) {
                    return try self.take(generation: generation)
                }
                self.batch = EventBatch()
                self.index = 0
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
                    let request = SubscribeRequest(
                        initialCredit: UInt32(clamping: self.options.maxInFlight ?? 0),
                        target: .group(self.options.group)
                    )
                    let call = try self.consumer.startCall(on: connection, request)
                    self.phase = .streaming(connection, callID: call.callID, generation: call.generation, call.batches)
                } catch {
                    await connection.close()
                    self.phase = .finished
                    throw error
                }

            case .streaming(let connection, let callID, let generation, var batches):
                let batch: EventBatch?
                do {
                    batch = try await batches.next()
                } catch let error as LogbookError {
                    self.consumer.callClosed(generation: generation)
                    await connection.close()
                    try self.callEnded(error)
                    continue
                } catch {
                    // Cancelled: the producer already asked the router to send Cancel.
                    self.consumer.callClosed(generation: generation)
                    await connection.close()
                    self.phase = .finished
                    throw error
                }
                guard let batch else {
                    // The server ended the call with OK: a group call does not end by
                    // itself, so this is the daemon going away.
                    self.consumer.callClosed(generation: generation)
                    await connection.close()
                    try self.callEnded(nil)
                    continue
                }
                self.phase = .streaming(connection, callID: callID, generation: generation, batches)
                self.consumer.received(batch.deliveries.map(\.deliveryID))
                self.batch = batch
                self.index = 0
            }
        }
    }

    private func take(generation: UInt64) throws -> GroupDelivery {
        let wire = self.batch.events[self.index]
        let delivery = self.batch.deliveries[self.index]
        self.index += 1
        if self.index == self.batch.events.count {
            self.batch = EventBatch()
            self.index = 0
        }
        let event: RecordedEvent
        do {
            event = try RecordedEvent(wire: wire)
        } catch {
            self.batch = EventBatch()
            self.index = 0
            self.finish()
            throw error
        }
        return GroupDelivery(
            event: event,
            deliveryID: delivery.deliveryID,
            attempt: Int(delivery.attempt),
            consumer: self.consumer,
            generation: generation
        )
    }

    /// The call or the connection ended with `error` (nil: the server ended it with OK):
    /// wait and join again, or fail.
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
        switch self.consumer.callEnded(logbookError) {
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
        if case .streaming(let connection, let callID, let generation, _) = self.phase {
            self.consumer.callClosed(generation: generation)
            connection.cancelAndClose(callID)
        }
        self.phase = .finished
    }
}
