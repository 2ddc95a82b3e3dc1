internal import Foundation
internal import NIOPosix
internal import Logbook
internal import Testing

/// The Swift client library against the real daemon, as the README's tour uses it.
@Suite("Swift client", .serialized)
final class SwiftClientTests {
    let daemon: Daemon

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
    }

    private func events(_ client: LogbookClient, _ selector: ReadSelector, direction: ReadDirection = .forwards) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await event in client.read(selector, direction: direction) {
            events.append(event)
        }
        return events
    }

    @Test func theReadmeTour() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let placed = try await client.append(
            to: "order-42",
            expected: .noStream,
            events: [EventData(type: "OrderPlaced", json: #"{"customer":"c-7"}"#, metadata: ["source": "tour"])]
        )
        #expect(placed.firstRevision == 0)
        #expect(placed.positions == [1])
        let read = try await self.events(client, .stream("order-42"))
        #expect(read.map(\.type) == ["OrderPlaced"])
        #expect(read.first?.metadata == ["source": "tour"])
        #expect(String(decoding: read.first?.data ?? [], as: UTF8.self) == #"{"customer":"c-7"}"#)

        do {
            _ = try await client.append(to: "order-42", expected: .exact(7), events: [EventData(type: "X", json: "{}")])
            Issue.record("a wrong expected revision must throw")
        } catch let error as LogbookError {
            #expect(error.code == .failedPrecondition)
            #expect(error.details?.wrongExpectedRevision?.actual == 0)
        }
        await client.close()
    }

    @Test func multiStreamAppendIsAtomic() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let both = try await client.append([
            StreamAppend(stream: "account-a", expected: .noStream, events: [EventData(type: "Debited", json: #"{"n":10}"#)]),
            StreamAppend(stream: "account-b", expected: .noStream, events: [EventData(type: "Credited", json: #"{"n":10}"#)]),
        ])
        #expect(both.map(\.positions) == [[1], [2]], "consecutive positions across the streams")
        await #expect(throws: LogbookError.self) {
            _ = try await client.append([
                StreamAppend(stream: "account-a", expected: .exact(0), events: [EventData(type: "Debited", json: "{}")]),
                StreamAppend(stream: "account-c", expected: .streamExists, events: [EventData(type: "Credited", json: "{}")]),
            ])
        }
        #expect(try await self.events(client, .all).count == 2, "nothing of the refused append was written")
        await client.close()
    }

    @Test func idempotentRetryReturnsTheOriginalPositions() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let event = EventData(type: "Paid", json: #"{"amount":5}"#)
        let first = try await client.append(to: "payment-1", events: [event])
        let retry = try await client.append(to: "payment-1", events: [event])
        #expect(retry.positions == first.positions)
        #expect(retry.firstRevision == first.firstRevision)
        #expect(try await self.events(client, .stream("payment-1")).count == 1)
        do {
            _ = try await client.append(to: "payment-2", events: [event])
            Issue.record("an id used elsewhere must be refused")
        } catch let error as LogbookError {
            #expect(error.code == .alreadyExists)
        }
        await client.close()
    }

    @Test func concurrentCallsFromManyTasksOnOneConnection() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let streams = 20
        let perStream = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for stream in 0..<streams {
                group.addTask {
                    for index in 0..<perStream {
                        _ = try await client.append(
                            to: "conc-\(stream)",
                            expected: index == 0 ? .noStream : .exact(UInt64(index - 1)),
                            events: [EventData(type: "Step", json: "{\"i\":\(index)}")]
                        )
                    }
                }
                group.addTask {
                    for try await _ in client.read(.all, limit: 50) {}
                }
            }
            try await group.waitForAll()
        }
        let all = try await self.events(client, .all)
        #expect(all.count == streams * perStream)
        #expect(all.map(\.position) == Array(1...UInt64(streams * perStream)))
        let backwards = try await self.events(client, .category("conc"), direction: .backwards)
        #expect(backwards.map(\.position) == all.map(\.position).reversed())
        await client.close()
    }

    /// A task that prefers the client's executor runs on the connection's event loop (an
    /// NIO thread), and its calls work there as anywhere.
    @Test func callsRunOnTheConnectionsEventLoopWhenPreferred() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let (thread, positions) = try await withTaskExecutorPreference(client.executor) {
            var positions: [UInt64] = []
            for index in 0..<20 {
                let result = try await client.append(
                    to: "pinned", expected: index == 0 ? .noStream : .exact(UInt64(index - 1)),
                    events: [EventData(type: "Step", json: "{}")])
                positions += result.positions
            }
            return (MultiThreadedEventLoopGroup.currentEventLoop, positions)
        }
        #expect(thread != nil, "the task ran on an event loop's thread")
        let read = try await self.events(client, .stream("pinned"))
        #expect(read.map(\.position) == positions)
        #expect(read.map(\.revision) == Array(0..<20))
        await client.close()
    }

    /// A read whose consumer stops holds back only itself: the other calls on the client's
    /// one connection go on, and the read, taken up again, gives every event in order.
    /// Before reads had credit, the stalled read's batches filled the client's buffer, the
    /// client stopped reading the socket, and every call on the connection waited.
    @Test func aStalledReadHoldsBackNoOtherCall() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let pad = String(repeating: "x", count: 600)
        for batch in 0..<20 {  // 12 MB: far more than the buffers and the socket hold
            let events = (0..<1000).map { _ in EventData(type: "Big", json: #"{"pad":"\#(pad)"}"#) }
            _ = try await client.append(to: "stalled-\(batch)", events: events)
        }
        var stalled = client.read(.all).makeAsyncIterator()
        let first = try await stalled.next()
        #expect(first?.position == 1)
        try await Task.sleep(for: .milliseconds(300))  // the server sends what it may

        var positions: [UInt64] = [1]
        let served = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = try await client.append(to: "beside-a-stalled-read", events: [EventData(type: "Beside", json: "{}")])
                var beside: [RecordedEvent] = []
                for try await event in client.read(.stream("beside-a-stalled-read")) { beside.append(event) }
                #expect(beside.map(\.type) == ["Beside"])
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(20))
                return false
            }
            let served = try await group.next() ?? false
            if !served {
                // Taking the stalled read up again is what lets the waiting calls finish.
                while let event = try await stalled.next() { positions.append(event.position) }
            }
            group.cancelAll()
            return served
        }
        #expect(served, "calls beside a stalled read must not wait for it")
        while let event = try await stalled.next() { positions.append(event.position) }
        #expect(positions == Array(1...20_000), "the read's snapshot, whole and in order")
        await client.close()
    }
}
