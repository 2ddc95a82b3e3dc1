internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Long reads: Cancel and deadlines reach a read that the socket's back-pressure holds,
/// a reader that vanishes mid-read costs nobody else anything, and a read with credit
/// sends no more than it was granted while its connection goes on serving.
@Suite("Read calls", .serialized, .blocksItsThread)
struct ReadCallTests {
    /// 20,000 events of ~600 bytes: far more than the socket buffers hold.
    private func seed(_ daemon: Daemon) throws {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let data = Array("{\"pad\":\"\(String(repeating: "x", count: 600))\"}".utf8)
        for batch in 0..<20 {
            let events = (0..<1000).map { _ in ProposedEvent(type: "Big", data: data, contentType: "application/json") }
            let result = try client.call(UInt64(batch + 1), .appendRequest(AppendRequest(streams: [
                StreamAppend(stream: "big-\(batch)", events: events)
            ])))
            try #require(result.status.code == .ok, "\(result.status)")
        }
    }

    /// Reads frames until `callID`'s Status.
    private func status(of callID: UInt64, on client: RawClient) throws -> (Status, events: Int) {
        var events = 0
        while let frame = try client.receive() {
            guard frame.callID == callID else { continue }
            switch frame.body {
            case .eventBatch(let batch): events += batch.events.count
            case .status(let status): return (status, events)
            default: break
            }
        }
        throw RawClient.Closed()
    }

    @Test func cancelEndsAReadHeldByBackPressure() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon)
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        try client.send(Frame(callID: 7, body: .readRequest(ReadRequest(selector: Selector(kind: .all(Empty()))))))
        guard case .eventBatch = try client.receive()?.body else {
            Issue.record("expected a first batch")
            return
        }
        usleep(300_000)  // the server fills the socket and waits on it
        try client.send(Frame(callID: 7, body: .cancel(Cancel())))
        let (status, events) = try self.status(of: 7, on: client)
        #expect(status.code == .cancelled, "\(status)")
        #expect(events < 20_000 - 512, "the read stopped early (\(events) more events arrived)")
        // The connection goes on serving.
        let next = try client.call(8, .appendRequest(.single("after-cancel-1")))
        #expect(next.status.code == .ok)
    }

    @Test func aDeadlineEndsAStalledRead() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon)
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        try client.send(Frame(callID: 3, timeoutMs: 200, body: .readRequest(ReadRequest(selector: Selector(kind: .all(Empty()))))))
        usleep(800_000)
        let (status, events) = try self.status(of: 3, on: client)
        #expect(status.code == .deadlineExceeded, "\(status)")
        #expect(events < 20_000)
    }

    @Test func aReaderThatVanishesCostsOthersNothing() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon)
        do {
            let quitter = try RawClient(path: daemon.socketPath)
            _ = try quitter.hello()
            try quitter.send(Frame(callID: 1, body: .readRequest(ReadRequest(selector: Selector(kind: .all(Empty()))))))
            _ = try quitter.receive()
        }  // closed here, mid-read
        let other = try RawClient(path: daemon.socketPath)
        _ = try other.hello()
        let read = try other.call(1, .readRequest(ReadRequest(selector: Selector(kind: .stream("big-3")), maxCount: 10)))
        #expect(read.status.code == .ok)
        let count = read.frames.reduce(0) { total, frame in
            if case .eventBatch(let batch) = frame.body { return total + batch.events.count }
            return total
        }
        #expect(count == 10)
        #expect(daemon.process?.isRunning == true)
    }

    /// The next `count` events of `callID`.
    private func events(of callID: UInt64, count: Int, on client: RawClient) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        while events.count < count, let frame = try client.receive() {
            switch (frame.callID, frame.body) {
            case (callID, .eventBatch(let batch)): events += batch.events
            case (callID, .status(let status)): Issue.record("the read ended early: \(status)"); return events
            default: break
            }
        }
        return events
    }

    /// Events of `callID` that arrive before the Status of `otherCallID` (a call made after
    /// them on the same connection), and that Status.
    private func events(of callID: UInt64, before otherCallID: UInt64, on client: RawClient) throws -> (events: [RecordedEvent], Status) {
        var events: [RecordedEvent] = []
        while let frame = try client.receive() {
            switch (frame.callID, frame.body) {
            case (callID, .eventBatch(let batch)): events += batch.events
            case (callID, .status(let status)): Issue.record("the read ended early: \(status)")
            case (otherCallID, .status(let status)): return (events, status)
            default: break
            }
        }
        throw RawClient.Closed()
    }

    @Test func aReadSendsWhatItsCreditAllowsAndItsConnectionGoesOn() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon)
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        try client.send(Frame(callID: 1, body: .readRequest(ReadRequest(selector: Selector(kind: .all(Empty())), initialCredit: 100))))
        usleep(200_000)  // time to send more than the credit, were it not honoured
        // An append on the same connection is answered while the read waits for credit;
        // the frames of the read that came first are its credit's worth, no more.
        try client.send(Frame(callID: 2, body: .appendRequest(.single("beside-the-read"))))
        let (first, appended) = try self.events(of: 1, before: 2, on: client)
        #expect(appended.code == .ok, "\(appended)")
        #expect(first.count == 100)
        #expect(first.map(\.position) == Array(1...100))

        try client.send(Frame(callID: 1, body: .credit(Credit(count: 1000))))
        usleep(200_000)
        try client.send(Frame(callID: 3, body: .readRequest(ReadRequest(selector: Selector(kind: .stream("big-7")), maxCount: 3))))
        var (more, read) = try self.events(of: 1, before: 3, on: client)
        #expect(read.code == .ok, "\(read)")
        // The short read of call 3 may overtake the end of the grant's worth (on PostgreSQL,
        // under load): the rest of it follows.
        if more.count < 1000 { more += try self.events(of: 1, count: 1000 - more.count, on: client) }
        #expect(more.map(\.position) == Array(101...1100), "the grant's worth, in order, after the first")

        try client.send(Frame(callID: 1, body: .cancel(Cancel())))
        let (status, _) = try self.status(of: 1, on: client)
        #expect(status.code == .cancelled, "\(status)")
    }

    @Test func aReadWithCreditEndsAtItsMaxCountAndOneWithoutIsNotHeld() throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon)
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let capped = try client.call(1, .readRequest(ReadRequest(selector: Selector(kind: .all(Empty())), maxCount: 40, initialCredit: 100)))
        #expect(capped.status.code == .ok)
        #expect(capped.frames.reduce(0) { if case .eventBatch(let b) = $1.body { $0 + b.events.count } else { $0 } } == 40)
        // No credit asked: the server sends the whole read (clients before credit).
        let whole = try client.call(2, .readRequest(ReadRequest(selector: Selector(kind: .stream("big-0")))))
        #expect(whole.status.code == .ok)
        #expect(whole.frames.reduce(0) { if case .eventBatch(let b) = $1.body { $0 + b.events.count } else { $0 } } == 1000)
    }
}
