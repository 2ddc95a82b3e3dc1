internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Catch-up subscriptions against the real daemon, over raw frames.
@Suite("Catch-up subscriptions", .serialized, .blocksItsThread)
struct SubscriptionTests {
    private func subscribe(
        _ client: RawClient,
        callID: UInt64,
        _ kind: Selector.Kind,
        from: StartFrom? = nil,
        credit: UInt32 = 0
    ) throws {
        try client.send(Frame(callID: callID, body: .subscribeRequest(SubscribeRequest(
            initialCredit: credit,
            target: .catchUp(CatchUp(selector: Selector(kind: kind), from: from))
        ))))
    }

    /// Appends `count` events in appends of `batch`, keeping at most 64 appends in flight.
    private func appendMany(_ path: String, stream: String, count: Int, batch: Int = 10, type: String = "Tick", dataBytes: Int = 2) throws {
        let data = Array("\"\(String(repeating: "x", count: max(0, dataBytes - 2)))\"".utf8)
        let client = try RawClient(path: path)
        _ = try client.hello()
        var sent = 0
        var answered = 0
        var callID: UInt64 = 0
        while answered < count / batch {
            while sent < count / batch, sent - answered < 64 {
                callID += 1
                let events = (0..<batch).map { _ in ProposedEvent(type: type, data: data, contentType: "application/json") }
                try client.send(Frame(callID: callID, body: .appendRequest(AppendRequest(streams: [
                    StreamAppend(stream: stream, events: events)
                ]))))
                sent += 1
            }
            guard let frame = try client.receive() else { throw RawClient.Closed() }
            if case .status(let status) = frame.body {
                try #require(status.code == .ok, "\(status)")
                answered += 1
            }
        }
    }

    @Test func aSubscriberStartedDuringConcurrentAppendsSeesEveryEventOnceInOrder() throws {
        let daemon = try Daemon()
        try daemon.start()
        let path = daemon.socketPath
        let writers = (0..<4).map { index in
            Thread { try? self.appendMany(path, stream: "load-\(index)", count: 5000) }
        }
        writers.forEach { $0.start() }
        usleep(100_000)  // some history exists, more is being written

        let subscriber = try RawClient(path: daemon.socketPath)
        _ = try subscriber.hello()
        try self.subscribe(subscriber, callID: 1, .all(Empty()), credit: 1000)
        var positions: [UInt64] = []
        var caughtUp = 0
        while positions.count < 20_000 {
            guard let frame = try subscriber.receive() else { throw RawClient.Closed() }
            switch frame.body {
            case .eventBatch(let batch):
                positions += batch.events.map(\.position)
                try subscriber.send(Frame(callID: 1, body: .credit(Credit(count: UInt32(batch.events.count)))))
            case .caughtUp:
                caughtUp += 1
            case .status(let status):
                Issue.record("the subscription ended: \(status)")
                return
            default:
                break
            }
        }
        // The writers are done: the subscriber reaches the head and says so.
        while caughtUp == 0, let frame = try subscriber.receive() {
            if case .caughtUp = frame.body { caughtUp += 1 }
            if case .eventBatch(let batch) = frame.body { positions += batch.events.map(\.position) }
        }
        #expect(positions == Array(1...20_000), "each event exactly once, in position order")
        #expect(caughtUp >= 1)
    }

    @Test func creditBoundsWhatIsInFlight() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.appendMany(daemon.socketPath, stream: "credit-1", count: 100)
        let client = try RawClient(path: daemon.socketPath, receiveTimeoutSeconds: 2)
        _ = try client.hello()
        try self.subscribe(client, callID: 1, .stream("credit-1"), credit: 5)
        var received = 0
        do {
            while let frame = try client.receive() {
                if case .eventBatch(let batch) = frame.body { received += batch.events.count }
            }
        } catch is RawClient.Timeout {}
        #expect(received == 5, "no more than the credit granted")
        try client.send(Frame(callID: 1, body: .credit(Credit(count: 10))))
        do {
            while let frame = try client.receive() {
                if case .eventBatch(let batch) = frame.body { received += batch.events.count }
            }
        } catch is RawClient.Timeout {}
        #expect(received == 15)
        try client.send(Frame(callID: 1, body: .cancel(Cancel())))
        var status: Status?
        while status == nil, let frame = try client.receive() {
            if case .status(let ended) = frame.body { status = ended }
        }
        #expect(status?.code == .cancelled)
    }

    @Test func startsAtEndPositionOrRevision() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.appendMany(daemon.socketPath, stream: "from-1", count: 30)
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        // From a position (exclusive), from a revision of the stream, and from the end.
        try self.subscribe(client, callID: 1, .all(Empty()), from: StartFrom(kind: .position(25)))
        try self.subscribe(client, callID: 2, .stream("from-1"), from: StartFrom(kind: .revision(27)))
        try self.subscribe(client, callID: 3, .all(Empty()), from: StartFrom(kind: .end(Empty())))
        var events: [UInt64: [UInt64]] = [:]
        var caughtUp: Set<UInt64> = []
        while caughtUp.count < 3, let frame = try client.receive() {
            switch frame.body {
            case .eventBatch(let batch): events[frame.callID, default: []] += batch.events.map(\.position)
            case .caughtUp: caughtUp.insert(frame.callID)
            default: break
            }
        }
        #expect(events[1] == [26, 27, 28, 29, 30])
        #expect(events[2] == [29, 30], "revisions 28 and 29 are positions 29 and 30")
        #expect(events[3] == nil)
        // Live events reach all three.
        try self.appendMany(daemon.socketPath, stream: "from-1", count: 10)
        var live: [UInt64: Int] = [:]
        while live.values.reduce(0, +) < 30, let frame = try client.receive() {
            if case .eventBatch(let batch) = frame.body { live[frame.callID, default: 0] += batch.events.count }
        }
        #expect(live == [1: 10, 2: 10, 3: 10])
    }

    @Test func aFilteredSubscriptionReportsCheckpointsThroughSkippedEvents() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath, receiveTimeoutSeconds: 1)
        _ = try client.hello()
        try self.subscribe(client, callID: 1, .eventType("Wanted"))
        guard case .caughtUp(let caught) = try client.receive()?.body else {
            Issue.record("expected CaughtUp on an empty log")
            return
        }
        #expect(caught.position == 0)
        // Noise until the subscription says how far it has looked through it: it does so at
        // most once per checkpoint interval, when a scan finds nothing that matches.
        var noise = 0
        var checkpoint: UInt64?
        while checkpoint == nil, noise < 600 {
            try self.appendMany(daemon.socketPath, stream: "noise-1", count: 10, type: "Noise")
            noise += 10
            do {
                guard let frame = try client.receive() else { throw RawClient.Closed() }
                guard case .checkpoint(let next) = frame.body else {
                    Issue.record("expected only Checkpoint frames while no event matches, got \(frame)")
                    return
                }
                checkpoint = next.position
            } catch is RawClient.Timeout {}
        }
        #expect(checkpoint == UInt64(noise), "a checkpoint reaches the head it scanned to")
        try self.appendMany(daemon.socketPath, stream: "noise-1", count: 1, batch: 1, type: "Wanted")
        guard case .eventBatch(let batch) = try client.receive()?.body else {
            Issue.record("expected the wanted event")
            return
        }
        #expect(batch.events.map(\.position) == [UInt64(noise) + 1])
    }

    @Test func aSubscriberThatNeverReadsCostsBoundedMemoryAndSlowsNoAppend() throws {
        let daemon = try Daemon()
        try daemon.start()
        let pid = try #require(daemon.process?.processIdentifier)
        // The same flood first without the subscriber, so the allocator's own retention is
        // already in the baseline.
        try self.appendMany(daemon.socketPath, stream: "warm-1", count: 100_000, batch: 100, dataBytes: 1024)
        let idle = try RawClient(path: daemon.socketPath)
        _ = try idle.hello()
        try self.subscribe(idle, callID: 1, .all(Empty()), credit: UInt32.max)
        let before = try Self.residentBytes(pid)
        // 100,000 events, 100 MiB: were they queued for the idle subscriber, the daemon would grow by
        // at least that much.
        try self.appendMany(daemon.socketPath, stream: "flood-1", count: 100_000, batch: 100, dataBytes: 1024)
        let after = try Self.residentBytes(pid)
        #expect(after - before < 48 << 20, "RSS grew by \((after - before) >> 20) MiB while the subscriber read nothing")
        // The daemon still answers promptly.
        let other = try RawClient(path: daemon.socketPath)
        _ = try other.hello()
        #expect(try other.call(1, .appendRequest(.single("after-flood-1"))).status.code == .ok)
    }

    static func residentBytes(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kilobytes = try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
        return kilobytes * 1024
    }
}
