internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Long reads: Cancel and deadlines reach a read that the socket's back-pressure holds,
/// and a reader that vanishes mid-read costs nobody else anything.
@Suite("Read calls", .serialized)
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
}
