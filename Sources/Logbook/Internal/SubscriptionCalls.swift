internal import LogbookWire

/// The calls of one iteration of a ``Subscription``, for its ``ResumingIterator``: each
/// starts where ``SubscriptionStateMachine`` says, and the events of its batches are handed
/// out one at a time, granting credit as the consumer takes them.
struct SubscriptionCalls: ResumableCalls {
    private let options: Subscription.Options
    private var machine: SubscriptionStateMachine
    private var events = Buffered<LogbookWire.RecordedEvent>()

    init(options: Subscription.Options) {
        self.options = options
        self.machine = SubscriptionStateMachine(from: options.from, configuration: options.configuration)
    }

    var hasBuffered: Bool {
        !self.events.isEmpty
    }

    mutating func start(on connection: ClientConnection) throws(LogbookError) -> (ResumableCall, SubscriptionStream.Producer.AsyncIterator) {
        let (credit, from) = self.machine.startCall()
        let request = try SubscriptionStateMachine.request(
            selector: self.options.selector,
            from: from,
            filter: self.options.filter,
            initialCredit: credit
        )
        let (callID, frames) = try connection.subscribe(request)
        return (ResumableCall(connection: connection, id: callID, generation: 0), frames)
    }

    mutating func received(_ frame: SubscriptionFrame, on call: ResumableCall) -> SubscriptionMessage? {
        let message: SubscriptionMessage
        switch frame {
        case .events(let events):
            self.events.refill(events)
            return nil
        case .caughtUp(let position): message = .caughtUp(position: position)
        case .fellBehind(let position): message = .fellBehind(position: position)
        case .checkpoint(let position): message = .checkpoint(position: position)
        }
        return self.machine.handingOut(frame).deliver ? message : nil
    }

    mutating func takeBuffered(on call: ResumableCall?) throws(LogbookError) -> SubscriptionMessage? {
        guard let event = try self.events.take(RecordedEvent.init(wire:)) else { return nil }
        if let grant = self.machine.handingOutEvent(at: event.position).grant, let call {
            call.connection.grantCredit(call.id, count: grant)
        }
        return .event(event)
    }

    func closed(_ call: ResumableCall) {}

    mutating func ended(_ error: LogbookError?) -> SubscriptionStateMachine.EndAction {
        self.machine.callEnded(error, jitter: Double.random(in: 0..<1))
    }
}
