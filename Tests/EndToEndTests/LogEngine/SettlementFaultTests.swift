internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// A settlement that could not be written confirms nothing (issue 14). In both engines
    /// the acks and their view writes go to the SQLite database `logbook.sqlite` in one
    /// transaction; the shim fails that commit's write-ahead log. No Settled may reach the
    /// consumer and the view must not show the writes.
    /// - EIO from the sync: fail-stop. After a restart without the shim the same events
    ///   are delivered again, and their acks and view writes then hold.
    /// - ENOSPC from a write (a full disk): not a fail-stop. The group reloads its progress
    ///   from disk and delivers the same events again; once there is room they settle.
    @Suite("A failed settlement write, in each engine", .serialized)
    struct SettlementFaultTests {
        static let engines = [["--engine", "log"], ["--engine", "sqlite"]]
        static let events = 3

        @Test(arguments: Self.engines)
        func aFailedSettlementWriteConfirmsNothing(_ arguments: [String]) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                let shim = try FaultShim.build(in: daemon.directory)
                let process = try DaemonProcess.start(
                    daemon, arguments, environment: shim.environment(failing: [.fdatasync, .fsync], on: "logbook.sqlite-wal", once: true))
                let admin = try RawClient.connected(daemon)
                for index in 1...Self.events {
                    let (reply, status) = try admin.append(.single("settle-\(index)"), callID: UInt64(index))
                    try #require(reply != nil, "\(status.summary)")
                }
                try Self.createGroupAndView(admin)

                // The deliveries, then their acks with a view write each, whose commit fails.
                let consumer = try Self.subscribe(daemon)
                let first = try Self.deliveries(consumer, count: Self.events)
                #expect(first.map(\.position) == Array(1...UInt64(Self.events)))
                try shim.arm()
                try Self.ack(consumer, first)
                // The consumer hears no Settled: its call may end (with the reason), or the
                // events may come again, but nothing is confirmed.
                while let frame = try consumer.receive(within: 3) {
                    switch frame.body {
                    case .settled(let settled):
                        Issue.record("Settled \(settled.deliveryIDs) after the write failed")
                    case .status(let status):
                        #expect(status.code != .ok, "\(status.summary)")
                    default:
                        continue
                    }
                    if case .status = frame.body { break }
                }
                #expect(!shim.isArmed, "the shim failed a sync of logbook.sqlite-wal: \(process.log.suffix(2_000))")
                // Fail-stop: appends are refused with the reason (the database's disk is not
                // trusted with more, in the log engine too); queries and reads go on.
                let (refused, refusal) = try admin.append(.single("settle-after"), callID: 20)
                #expect(refused == nil && refusal.code == .unavailable, "\(refusal.summary)")
                #expect(refusal.message.contains("I/O error") && refusal.message.contains("logbook.sqlite"), "\(refusal.summary)")
                let query = try admin.call(21, .queryRequest(QueryRequest(view: "v")))
                #expect(query.status.code == .ok, "\(query.status.summary)")
                #expect(Self.rows(query.frames).isEmpty, "a view write of the failed commit shows: \(query.frames)")
                let (events, readStatus) = try admin.readEvents(.all(Empty()), callID: 22)
                #expect(readStatus.code == .ok && events.map(\.position) == first.map(\.position), "\(readStatus.summary)")
                #expect(process.process.isRunning, "the daemon keeps running: \(process.log.suffix(2_000))")
                #expect(process.terminate(within: 60) != nil, "logbookd hung on SIGTERM after the fail-stop")

                // Restart without the shim: nothing was settled, so all of it comes again.
                try daemon.start(arguments)
                let again = try Self.subscribe(daemon)
                let redelivered = try Self.deliveries(again, count: Self.events)
                #expect(redelivered.map(\.position) == first.map(\.position), "the unconfirmed events are delivered again")
                try Self.ack(again, redelivered)
                let confirmed = try Self.settled(again, count: Self.events)
                #expect(Set(confirmed) == Set(redelivered.map(\.deliveryID)))
                let restarted = try RawClient.connected(daemon)
                let (rows, status) = try restarted.call(1, .queryRequest(QueryRequest(view: "v")))
                #expect(status.code == .ok, "\(status.summary)")
                #expect(Self.rows(rows).map(\.key).sorted() == (1...Self.events).map { "k\($0)" }, "each view write once")
            }
        }

        @Test(arguments: Self.engines)
        func aFullDiskAtSettlementConfirmsNothingUntilThereIsRoom(_ arguments: [String]) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                let shim = try FaultShim.build(in: daemon.directory)
                let process = try DaemonProcess.start(
                    // Every write fails while armed, not only the first: the indexer may write
                    // the database in the background (its idle catch-up) before the ack does.
                    daemon, arguments, environment: shim.environment(failing: [.pwrite], on: "logbook.sqlite-wal", errno: ENOSPC, once: false))
                let admin = try RawClient.connected(daemon)
                for index in 1...Self.events {
                    let (reply, status) = try admin.append(.single("full-\(index)"), callID: UInt64(index))
                    try #require(reply != nil, "\(status.summary)")
                }
                try Self.createGroupAndView(admin)
                let consumer = try Self.subscribe(daemon)
                let first = try Self.deliveries(consumer, count: Self.events)
                try shim.arm()
                try Self.ack(consumer, first)
                // The group reloads its progress from disk, which has none of the acks: the
                // same events come again (new delivery ids), with no Settled before them.
                let redelivered = try Self.deliveries(consumer, count: Self.events) { settled in
                    Issue.record("Settled \(settled) after the write failed")
                }
                #expect(redelivered.map(\.position) == first.map(\.position))
                #expect(Set(redelivered.map(\.deliveryID)).isDisjoint(with: first.map(\.deliveryID)))
                let query = try admin.call(20, .queryRequest(QueryRequest(view: "v")))
                #expect(query.status.code == .ok && Self.rows(query.frames).isEmpty, "\(query.status.summary) \(query.frames)")

                // Room again: now they settle, with their view writes.
                shim.disarm()
                try Self.ack(consumer, redelivered)
                #expect(Set(try Self.settled(consumer, count: Self.events)) == Set(redelivered.map(\.deliveryID)))
                let (rows, status) = try admin.call(21, .queryRequest(QueryRequest(view: "v")))
                #expect(status.code == .ok && Self.rows(rows).map(\.key).sorted() == (1...Self.events).map { "k\($0)" })
                let (appended, appendStatus) = try admin.append(.single("full-after"), callID: 22)
                #expect(appended != nil, "a full disk is not a fail-stop: \(appendStatus.summary)")
                #expect(process.process.isRunning)
            }
        }

        private static func createGroupAndView(_ admin: RawClient) throws {
            let group = GroupSettings(
                name: "g", selector: Selector(kind: .all(Empty())), strategy: .roundRobin, maxInFlight: 10, ackTimeoutMs: 60_000)
            let created = try admin.call(100, .adminRequest(AdminRequest(op: .createGroup(group))))
            try #require(created.status.code == .ok, "\(created.status.summary)")
            let view = try admin.call(101, .adminRequest(AdminRequest(op: .defineView(ViewDefinition(name: "v", group: "g")))))
            try #require(view.status.code == .ok, "\(view.status.summary)")
        }

        private static func subscribe(_ daemon: Daemon) throws -> RawClient {
            let consumer = try RawClient(path: daemon.socketPath, receiveTimeoutSeconds: 30)
            _ = try consumer.hello()
            try consumer.send(Frame(callID: 1, body: .subscribeRequest(SubscribeRequest(target: .group("g")))))
            return consumer
        }

        /// The next `count` deliveries of the consumer's call; Settled frames on the way go
        /// to `settled`.
        private static func deliveries(
            _ consumer: RawClient, count: Int, settled: ([UInt64]) -> Void = { _ in }
        ) throws -> [(position: UInt64, deliveryID: UInt64)] {
            var delivered: [(position: UInt64, deliveryID: UInt64)] = []
            while delivered.count < count, let frame = try consumer.receive() {
                switch frame.body {
                case .eventBatch(let batch):
                    delivered += zip(batch.events, batch.deliveries).map { ($0.position, $1.deliveryID) }
                case .settled(let ids):
                    settled(ids.deliveryIDs)
                case .status(let status):
                    throw Daemon.DaemonError(message: "the consumer's call ended: \(status.summary)")
                default:
                    continue
                }
            }
            return delivered
        }

        /// Acks every delivery, each with a view write of its own.
        private static func ack(_ consumer: RawClient, _ deliveries: [(position: UInt64, deliveryID: UInt64)]) throws {
            let writes = deliveries.map {
                ViewWrite(view: "v", key: "k\($0.position)", op: .put(#"{"position":\#($0.position)}"#))
            }
            try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: deliveries.map(\.deliveryID), viewWrites: writes))))
        }

        /// The delivery ids of Settled frames, until `count` have come.
        private static func settled(_ consumer: RawClient, count: Int) throws -> [UInt64] {
            var ids: [UInt64] = []
            while ids.count < count, let frame = try consumer.receive() {
                if case .settled(let settled) = frame.body { ids += settled.deliveryIDs }
            }
            return ids
        }

        private static func rows(_ frames: [Frame]) -> [Row] {
            frames.flatMap { frame -> [Row] in
                if case .queryReply(let reply) = frame.body { return reply.rows }
                return []
            }
        }
    }
}
