internal import LogbookStorage
internal import LogbookWire

extension CallRunner {
    /// A consumer in a persistent group: deliveries go out as EventBatch frames (with their
    /// delivery ids and attempts), Ack and Nack frames come back through the call's control,
    /// and `Settled` confirms each settlement once it is on disk.
    func consume(group name: String, initialCredit: UInt32, control: CallControl) async throws {
        let runtime = try await self.context.groups.runtime(name)
        let consumer = self.context.groups.nextConsumerID()
        let (messages, sink) = AsyncStream<GroupRuntime.ConsumerMessage>.makeStream()
        control.settlements.set { body in
            switch body {
            case .ack(let ack):
                do throws(CallError) {
                    var writes: [LogbookStorage.ViewWrite] = []
                    for write in ack.viewWrites { writes.append(try Conversions.viewWrite(write)) }
                    runtime.send(.ack(consumer, ack.deliveryIDs, viewWrites: writes))
                } catch {
                    runtime.send(.refuseAck(consumer, error.status))
                }
            case .nack(let nack):
                let action: GroupRuntime.Machine.NackAction
                switch nack.action {
                case .retry: action = .retry
                case .park: action = .park
                case .skip: action = .skip
                }
                runtime.send(.nack(consumer, nack.deliveryIDs, action, nack.reason))
            default:
                break
            }
        }
        runtime.send(.join(consumer, maxInFlight: initialCredit == 0 ? nil : Int(initialCredit), sink))
        defer {
            control.settlements.set(nil)
            runtime.send(.leave(consumer))
        }
        for await message in messages {
            switch message {
            case .deliveries(let batch):
                try await self.write(.eventBatch(EventBatch(
                    events: batch.map { Conversions.recordedEvent($0.payload.event) },
                    deliveries: batch.map { Delivery(deliveryID: $0.deliveryID, attempt: $0.attempt) }
                )))
            case .settled(let ids):
                try await self.write(.settled(Settled(deliveryIDs: ids)))
            case .ended(let status):
                throw CallError(status)
            }
        }
        try Task.checkCancellation()
    }
}
