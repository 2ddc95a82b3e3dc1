internal import LogbookWire

/// The calls of one consumer of a ``GroupSubscription``, for its ``ResumingIterator``: each
/// joins the group again through the ``GroupConsumer`` its deliveries settle with.
///
/// Deliveries still buffered when their call ends are dropped rather than handed out: they
/// could no longer be settled, and the daemon gives them to a consumer again.
struct GroupSubscriptionCalls: ResumableCalls {
    private let options: GroupSubscription.Options
    private let consumer: GroupConsumer
    private var deliveries = Buffered<(event: LogbookWire.RecordedEvent, delivery: Delivery)>()

    init(options: GroupSubscription.Options) {
        self.options = options
        self.consumer = GroupConsumer(configuration: options.configuration)
    }

    var hasBuffered: Bool {
        !self.deliveries.isEmpty
    }

    func start(on connection: ClientConnection) throws(LogbookError) -> (ResumableCall, GroupStream.Producer.AsyncIterator) {
        let request = SubscribeRequest(
            initialCredit: UInt32(clamping: self.options.maxInFlight ?? 0),
            target: .group(self.options.group)
        )
        let started = try self.consumer.startCall(on: connection, request)
        return (ResumableCall(connection: connection, id: started.callID, generation: started.generation), started.batches)
    }

    mutating func received(_ batch: EventBatch, on call: ResumableCall) -> GroupDelivery? {
        self.consumer.received(batch.deliveries.map(\.deliveryID))
        self.deliveries.refill(Array(zip(batch.events, batch.deliveries)))
        return nil
    }

    mutating func takeBuffered(on call: ResumableCall?) throws(LogbookError) -> GroupDelivery? {
        guard !self.deliveries.isEmpty else { return nil }
        guard let call, self.consumer.isCallOpen(call.generation) else {
            self.deliveries.removeAll()
            return nil
        }
        return try self.deliveries.take { (wire, delivery) throws(LogbookError) in
            GroupDelivery(
                event: try RecordedEvent(wire: wire),
                deliveryID: delivery.deliveryID,
                attempt: Int(delivery.attempt),
                consumer: self.consumer,
                generation: call.generation
            )
        }
    }

    func closed(_ call: ResumableCall) {
        self.consumer.callClosed(generation: call.generation)
    }

    mutating func ended(_ error: LogbookError?) -> SubscriptionStateMachine.EndAction {
        self.consumer.callEnded(error)
    }
}
