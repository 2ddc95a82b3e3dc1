internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// A group's deliveries do not wait for the write of the settlements that made room for
/// them, except where order needs it: under by_stream, a stream's next event waits until
/// the previous one's settlement is on disk, so that after a crash nothing of the stream
/// comes again behind a later event.
///
/// The settlement write is made to take as long as the test wants: a shim holds every sync
/// of SQLite's write-ahead log (where group progress goes) while its trigger exists.
@Suite("Group deliveries beside the settlement write", .serialized, .blocksItsThread)
struct GroupEarlyDeliveryTests {
    private struct Running {
        let daemon: Daemon
        let shim: FaultShim
        let process: DaemonProcess
        let consumer: RawClient
    }

    /// A daemon with `streams` appended (one event each, in order), a group of `strategy`
    /// with `max_in_flight` 1 over them, and a consumer joined to it (call 1).
    private func start(_ strategy: Strategy, streams: [String]) throws -> Running {
        let daemon = try Daemon()
        let shim = try FaultShim.build(in: daemon.directory)
        let process = try DaemonProcess.start(
            daemon, ["--engine", "log"], environment: shim.environment(stalling: [.fdatasync, .fsync], on: ".sqlite-wal"))
        let admin = try RawClient(path: daemon.socketPath)
        _ = try admin.hello()
        for (index, stream) in streams.enumerated() {
            let appended = try admin.call(UInt64(index + 1), .appendRequest(.single(stream)))
            try #require(appended.status.code == .ok, "\(appended.status)")
        }
        let created = try admin.call(100, .adminRequest(AdminRequest(op: .createGroup(GroupSettings(
            name: "g", selector: Selector(kind: .all(Empty())), strategy: strategy, maxInFlight: 1, ackTimeoutMs: 60_000
        )))))
        try #require(created.status.code == .ok, "\(created.status)")
        let consumer = try RawClient(path: daemon.socketPath, receiveTimeoutSeconds: 10)
        _ = try consumer.hello()
        try consumer.send(Frame(callID: 1, body: .subscribeRequest(SubscribeRequest(target: .group("g")))))
        return Running(daemon: daemon, shim: shim, process: process, consumer: consumer)
    }

    /// The next frame of the consumer's call: its deliveries' positions, or Settled's ids.
    private enum Next: Equatable {
        case delivered([UInt64])
        case settled([UInt64])
    }

    private func next(_ consumer: RawClient) throws -> Next {
        while let frame = try consumer.receive() {
            switch frame.body {
            case .eventBatch(let batch): return .delivered(batch.events.map(\.position))
            case .settled(let settled): return .settled(settled.deliveryIDs)
            case .status(let status): throw Daemon.DaemonError(message: "the consumer's call ended: \(status)")
            default: continue
            }
        }
        throw RawClient.Closed()
    }

    private func ack(_ consumer: RawClient, _ deliveryID: UInt64) throws {
        try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: [deliveryID]))))
    }

    @Test func roundRobinDeliversWhileTheAckThatMadeRoomIsWritten() throws {
        let running = try self.start(.roundRobin, streams: ["rr-a", "rr-b"])
        defer { running.shim.disarm() }
        #expect(try self.next(running.consumer) == .delivered([1]))
        try running.shim.arm()  // the ack's settlement write now waits
        try self.ack(running.consumer, 1)
        #expect(try self.next(running.consumer) == .delivered([2]), "delivered while the settlement is being written")
        running.shim.disarm()
        #expect(try self.next(running.consumer) == .settled([1]))
    }

    @Test func byStreamDeliversAnotherStreamEarlyButAStreamsNextEventAfterItsSettlement() throws {
        // Positions: 1 and 3 in stream a, 2 in stream b.
        let running = try self.start(.byStream, streams: ["bs-a", "bs-b", "bs-a"])
        defer { running.shim.disarm() }
        #expect(try self.next(running.consumer) == .delivered([1]))
        try running.shim.arm()
        try self.ack(running.consumer, 1)
        // Stream b's event took the freed room at once; stream a's next one did not go.
        #expect(try self.next(running.consumer) == .delivered([2]))
        try self.ack(running.consumer, 2)
        running.shim.disarm()
        #expect(try self.next(running.consumer) == .settled([1]))
        // Stream a's next event, now that its last settlement is on disk; the ack of b's
        // event is confirmed before or after it.
        let rest = [try self.next(running.consumer), try self.next(running.consumer)]
        #expect(Set(rest.map(String.init(describing:))) == ["delivered([3])", "settled([2])"], "\(rest)")
    }

    @Test func byStreamHoldsAStreamsNextEventWhileItsSettlementIsWritten() throws {
        let running = try self.start(.byStream, streams: ["held-a", "held-a"])
        defer { running.shim.disarm() }
        #expect(try self.next(running.consumer) == .delivered([1]))
        try running.shim.arm()
        try self.ack(running.consumer, 1)
        let quiet = try running.consumer.receive(within: 1)
        #expect(quiet == nil, "the stream's next event came before its settlement was on disk: \(String(describing: quiet))")
        running.shim.disarm()
        #expect(try self.next(running.consumer) == .settled([1]))
        #expect(try self.next(running.consumer) == .delivered([2]))
    }
}
