internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Persistent subscription groups against the real daemon, over raw frames.
@Suite("Persistent groups", .serialized, .blocksItsThread)
struct GroupTests {
    /// Appends `perStream` events to each of `streams` streams, round-robin across streams.
    private func seed(_ daemon: Daemon, streams: Int, perStream: Int, prefix: String = "acct") throws {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        var callID: UInt64 = 0
        for revision in 0..<perStream {
            for stream in 0..<streams {
                callID += 1
                let result = try client.call(callID, .appendRequest(.single("\(prefix)-\(stream)", data: "{\"r\":\(revision)}")))
                try #require(result.status.code == .ok, "\(result.status)")
            }
        }
    }

    private func admin(_ client: RawClient, _ callID: UInt64, _ op: AdminRequest.Op) throws -> (AdminReply?, Status) {
        let result = try client.call(callID, .adminRequest(AdminRequest(op: op)))
        let reply = result.frames.compactMap { frame -> AdminReply? in
            if case .adminReply(let reply) = frame.body { return reply }
            return nil
        }.first
        return (reply, result.status)
    }

    private func createGroup(_ client: RawClient, name: String, strategy: Strategy = .byStream, maxDeliveries: UInt32 = 0, ackTimeoutMs: UInt32 = 0) throws {
        let (_, status) = try self.admin(client, 900, .createGroup(GroupSettings(
            name: name,
            selector: Selector(kind: .all(Empty())),
            strategy: strategy,
            maxInFlight: 16,
            ackTimeoutMs: ackTimeoutMs,
            maxDeliveries: maxDeliveries,
            retryBackoffMs: 10
        )))
        try #require(status.code == .ok, "\(status)")
    }

    private func join(_ client: RawClient, _ callID: UInt64, group: String) throws {
        try client.send(Frame(callID: callID, body: .subscribeRequest(SubscribeRequest(target: .group(group)))))
    }

    @Test func adminCallsManageGroups() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        try self.createGroup(client, name: "projector")
        let (_, again) = try self.admin(client, 1, .createGroup(GroupSettings(name: "projector", selector: Selector(kind: .all(Empty())))))
        #expect(again.code == .alreadyExists)
        let (listed, _) = try self.admin(client, 2, .listGroups(Empty()))
        guard case .groups(let list)? = listed?.result else {
            Issue.record("expected a group list")
            return
        }
        #expect(list.groups.map { $0.settings?.name } == ["projector"])
        #expect(list.groups.first?.settings?.strategy == .byStream)
        let (_, missing) = try self.admin(client, 3, .groupInfo("nope"))
        #expect(missing.code == .notFound)
        let (_, deleted) = try self.admin(client, 4, .deleteGroup("projector"))
        #expect(deleted.code == .ok)
        let (_, gone) = try self.admin(client, 5, .groupInfo("projector"))
        #expect(gone.code == .notFound)
        let (_, noSuchGroup) = try client.call(6, .subscribeRequest(SubscribeRequest(target: .group("projector"))))
        #expect(noSuchGroup.code == .notFound)
    }

    /// Two consumers; one leaves mid-run without acking. Every event is acked exactly once
    /// overall and, within each stream, in revision order.
    @Test func byStreamGroupAcksEveryEventOnceInStreamOrder() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon, streams: 20, perStream: 10)
        let admin = try RawClient(path: daemon.socketPath)
        _ = try admin.hello()
        try self.createGroup(admin, name: "g")

        let quitter = try RawClient(path: daemon.socketPath)
        _ = try quitter.hello()
        try self.join(quitter, 1, group: "g")
        let worker = try RawClient(path: daemon.socketPath)
        _ = try worker.hello()
        try self.join(worker, 1, group: "g")
        // The quitter takes its first deliveries and vanishes without acking them.
        guard case .eventBatch = try quitter.receive()?.body else {
            Issue.record("the quitter got nothing")
            return
        }
        quitter.disconnect()

        var acked: [String: [UInt64]] = [:]
        var settled = 0
        while acked.values.reduce(0, { $0 + $1.count }) < 200 || settled < 200 {
            guard let frame = try worker.receive() else { throw RawClient.Closed() }
            switch frame.body {
            case .eventBatch(let batch):
                for (event, delivery) in zip(batch.events, batch.deliveries) {
                    acked[event.stream, default: []].append(event.revision)
                    try worker.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: [delivery.deliveryID]))))
                }
            case .settled(let confirmed):
                settled += confirmed.deliveryIDs.count
            case .status(let status):
                Issue.record("the group call ended: \(status)")
                return
            default:
                break
            }
        }
        #expect(acked.count == 20)
        for (stream, revisions) in acked {
            #expect(revisions == Array(0..<10), "\(stream) acked out of order or twice: \(revisions)")
        }
        let (info, _) = try self.admin(admin, 2, .groupInfo("g"))
        guard case .group(let group)? = info?.result else {
            Issue.record("expected group info")
            return
        }
        #expect(group.checkpoint == 200)
        #expect(group.lag == 0)
    }

    /// After a `kill -9`, no delivery whose settlement was confirmed comes again, and every
    /// event still arrives.
    @Test func killNineDuringDeliveryRedeliversNothingConfirmed() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon, streams: 10, perStream: 30)
        let admin = try RawClient(path: daemon.socketPath)
        _ = try admin.hello()
        try self.createGroup(admin, name: "g", strategy: .roundRobin)

        var confirmed: Set<UInt64> = []  // positions
        var pending: [UInt64: UInt64] = [:]  // delivery id -> position
        do {
            let consumer = try RawClient(path: daemon.socketPath)
            _ = try consumer.hello()
            try self.join(consumer, 1, group: "g")
            while confirmed.count < 120 {
                guard let frame = try consumer.receive() else { break }
                switch frame.body {
                case .eventBatch(let batch):
                    for (event, delivery) in zip(batch.events, batch.deliveries) {
                        pending[delivery.deliveryID] = event.position
                    }
                    try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: batch.deliveries.map(\.deliveryID)))))
                case .settled(let settled):
                    for id in settled.deliveryIDs {
                        if let position = pending.removeValue(forKey: id) { confirmed.insert(position) }
                    }
                default:
                    break
                }
            }
        }
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        let admin2 = try RawClient(path: daemon.socketPath)
        _ = try admin2.hello()
        let consumer = try RawClient(path: daemon.socketPath, receiveTimeoutSeconds: 1)
        _ = try consumer.hello()
        try self.join(consumer, 1, group: "g")
        // Consume until the group has settled everything. (Some events were settled just
        // before the kill without their confirmation reaching us: they must not come again
        // either, so "nothing lost" is judged by the group's checkpoint.)
        var checkpoint: UInt64 = 0
        var callID: UInt64 = 10
        let deadline = Date().addingTimeInterval(60)
        while checkpoint < 300, Date() < deadline {
            do {
                if let frame = try consumer.receive(), case .eventBatch(let batch) = frame.body {
                    for event in batch.events {
                        #expect(!confirmed.contains(event.position), "position \(event.position) was confirmed settled and came again")
                    }
                    try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: batch.deliveries.map(\.deliveryID)))))
                    continue
                }
            } catch is RawClient.Timeout {}
            callID += 1
            if case .group(let info)? = try self.admin(admin2, callID, .groupInfo("g")).0?.result {
                checkpoint = info.checkpoint
            }
        }
        #expect(checkpoint == 300, "every event is settled: nothing is lost")
    }

    @Test func aPoisonEventIsParkedHoldsItsStreamAndReplays() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon, streams: 2, perStream: 3, prefix: "p")  // p-0: 1,3,5  p-1: 2,4,6
        let admin = try RawClient(path: daemon.socketPath)
        _ = try admin.hello()
        try self.createGroup(admin, name: "g", maxDeliveries: 2)
        let consumer = try RawClient(path: daemon.socketPath)
        _ = try consumer.hello()
        try self.join(consumer, 1, group: "g")
        var acked: [UInt64] = []
        var attempts: [UInt64: UInt32] = [:]
        var nacks = 0
        // Nack p-0's first event every time (it is parked after its second delivery); ack
        // everything else.
        while acked.count < 3 || nacks < 2 {
            guard let frame = try consumer.receive() else { throw RawClient.Closed() }
            guard case .eventBatch(let batch) = frame.body else { continue }
            for (event, delivery) in zip(batch.events, batch.deliveries) {
                attempts[event.position] = delivery.attempt
                if event.position == 1 {
                    nacks += 1
                    try consumer.send(Frame(callID: 1, body: .nack(Nack(deliveryIDs: [delivery.deliveryID], action: .retry, reason: "poison"))))
                } else {
                    acked.append(event.position)
                    try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: [delivery.deliveryID]))))
                }
            }
        }
        #expect(acked == [2, 4, 6], "p-1 flows; p-0 is held behind its poison event")
        #expect(attempts[1] == 2)
        // Parking is saved by the group's driver just after the nack; poll until it shows.
        var parked = ParkedList()
        for attempt in 0..<100 where parked.events.count < 3 {
            if attempt > 0 { usleep(50_000) }
            if case .parked(let list)? = try self.admin(admin, 2, .listParked(ListParked(group: "g"))).0?.result {
                parked = list
            }
        }
        #expect(parked.events.map { $0.event?.position } == [1, 3, 5])
        #expect(parked.events.first?.reason.contains("poison") == true)

        let (_, replay) = try self.admin(admin, 3, .replayParked("g"))
        #expect(replay.code == .ok)
        var replayed: [UInt64] = []
        while replayed.count < 3 {
            guard let frame = try consumer.receive() else { throw RawClient.Closed() }
            guard case .eventBatch(let batch) = frame.body else { continue }
            for (event, delivery) in zip(batch.events, batch.deliveries) {
                replayed.append(event.position)
                try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: [delivery.deliveryID]))))
            }
        }
        #expect(replayed == [1, 3, 5], "the parked stream comes back in order")
        var info = GroupInfo()
        for attempt in 0..<100 where attempt == 0 || info.parked != 0 {
            if attempt > 0 { usleep(50_000) }
            if case .group(let current)? = try self.admin(admin, 4, .groupInfo("g")).0?.result { info = current }
        }
        #expect(info.parked == 0)
        #expect(info.checkpoint == 6)
    }
}
