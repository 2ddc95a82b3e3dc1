internal import LogbookStorage
internal import LogbookWire
internal import NIOCore

extension Calls {
    /// A consumer in a persistent group: deliveries go out as EventBatch frames (with their
    /// delivery ids and attempts), Ack and Nack frames come back through the call's control,
    /// and `Settled` confirms each settlement once it is on disk.
    func consume(group name: String, initialCredit: UInt32, control: CallControl) async throws {
        guard let runtime = self.context.groups.runtime(name) else {
            throw CallError(.notFound, "no subscription group named \(name)")
        }
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
                try await self.outbound.write(Frame(callID: self.callID, body: .eventBatch(EventBatch(
                    events: batch.map { Conversions.recordedEvent($0.payload) },
                    deliveries: batch.map { Delivery(deliveryID: $0.deliveryID, attempt: $0.attempt) }
                ))))
            case .settled(let ids):
                try await self.outbound.write(Frame(callID: self.callID, body: .settled(Settled(deliveryIDs: ids))))
            case .ended(let status):
                throw CallError(status)
            }
        }
        try Task.checkCancellation()
    }

    func admin(_ request: AdminRequest) async throws -> Status {
        let groups = self.context.groups
        let limits = self.context.limits
        let reply: AdminReply.Result
        switch request.op {
        case .createGroup(let settings):
            reply = .group(try await groups.create(settings, limits: limits))
        case .updateGroup(let settings):
            reply = .group(try await groups.update(settings, limits: limits))
        case .deleteGroup(let name):
            let views = self.context.views.owned(by: name)
            guard views.isEmpty else {
                throw CallError(.failedPrecondition, "the group \(name) writes the views \(views.joined(separator: ", ")); drop them first")
            }
            try await groups.delete(name)
            reply = .done(Empty())
        case .listGroups:
            reply = .groups(GroupList(groups: try groups.list()))
        case .groupInfo(let name):
            reply = .group(try groups.info(name))
        case .resetGroup(let reset):
            try await groups.reset(reset.name, to: reset.toPosition == 0 ? nil : reset.toPosition, clearViews: reset.clearViews)
            reply = .group(try groups.info(reset.name))
        case .listParked(let list):
            let limit = list.limit == 0 ? 100 : min(Int(list.limit), self.context.limits.readBatchEventsMax)
            reply = .parked(ParkedList(events: try groups.parked(list.group, after: list.afterPosition, limit: limit)))
        case .replayParked(let name):
            try groups.replayParked(name)
            reply = .group(try groups.info(name))
        case .defineView(let view):
            try await self.context.views.define(view)
            reply = .done(Empty())
        case .dropView(let name):
            try await self.context.views.drop(name)
            reply = .done(Empty())
        case .listViews:
            reply = .views(ViewList(views: self.context.views.list()))
        case .deleteStream:
            return Status(code: .unimplemented, message: "deleting streams is not built yet in this server version")
        case nil:
            throw CallError.badField("AdminRequest.op", "an Admin request names an operation")
        }
        try await self.outbound.write(Frame(callID: self.callID, body: .adminReply(AdminReply(result: reply))))
        return Status(code: .ok)
    }
}

extension CallError {
    init(_ status: Status) {
        self.status = status
    }
}
