internal import Foundation
internal import Logbook
internal import Testing

@Suite("Client against an in-process fake server")
struct ClientRoutingTests {
    @Test("50 tasks appending and reading at once on one client each get their own answers")
    func concurrentCallsAreRouted() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath, clientName: "routing-test")
        #expect(client.serverInfo.serverVersion == "fake")
        #expect(client.serverInfo.limits.openCallsPerConnectionMax == 8)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    let stream = "stream-\(task)"
                    let events = (0..<(task % 5 + 1)).map { index in
                        EventData(type: "Made", json: #"{"task":\#(task),"index":\#(index)}"#)
                    }
                    let first = try await client.append(to: stream, events: events)
                    #expect(first.stream == stream)
                    #expect(first.firstRevision == 0)
                    #expect(first.lastRevision == UInt64(events.count - 1))
                    #expect(first.positions.count == events.count)
                    #expect(first.commitTime != nil)

                    let second = try await client.append(to: stream, events: [EventData(type: "More", data: [UInt8(task)])])
                    #expect(second.firstRevision == UInt64(events.count))

                    var read: [RecordedEvent] = []
                    for try await event in client.read(.stream(stream)) {
                        read.append(event)
                    }
                    #expect(read.map(\.stream) == Array(repeating: stream, count: events.count + 1))
                    #expect(read.map(\.revision) == Array(0...UInt64(events.count)))
                    #expect(read.prefix(events.count).map(\.id) == events.map(\.id))
                    #expect(read.last?.data == [UInt8(task)])
                    #expect(read.first?.isJSON == true)
                    #expect(read.last?.contentType == "application/octet-stream")
                }
            }
            try await group.waitForAll()
        }
        await client.close()
        await server.stop()
    }

    @Test("a refusal arrives as a LogbookError with typed details, and the connection goes on")
    func refusal() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        await #expect {
            try await client.append(to: "conflict-1", expected: .exact(5), events: [EventData(type: "A", json: "{}")])
        } throws: { error in
            guard let error = error as? LogbookError else { return false }
            return error.code == .failedPrecondition
                && error.details == .wrongExpectedRevision(stream: "conflict-1", expected: .exact(5), actual: 7)
        }
        let result = try await client.append(to: "fine", events: [EventData(type: "A", json: "{}")])
        #expect(result.firstRevision == 0)
        await client.close()
        await server.stop()
    }

    @Test("a request larger than the server's frame limit fails locally, and the connection goes on")
    func frameLimit() async throws {
        let server = try await FakeServer.start(frameBytesMax: 1024)
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let framesBefore = server.framesReceived
        await #expect {
            try await client.append(to: "big", events: [EventData(type: "A", data: [UInt8](repeating: 7, count: 2000))])
        } throws: { error in
            (error as? LogbookError)?.code == .resourceExhausted && !((error as? LogbookError)?.isFromServer ?? true)
        }
        await #expect {
            try await client.append(to: "nul", events: [EventData(type: "A\u{0}B", data: [])])
        } throws: { error in
            (error as? LogbookError)?.code == .invalidArgument
        }
        #expect(server.framesReceived == framesBefore)
        let result = try await client.append(to: "small", events: [EventData(type: "A", data: [UInt8](repeating: 7, count: 100))])
        #expect(result.positions.count == 1)
        await client.close()
        await server.stop()
    }

    @Test("a read of a missing stream is empty; stopping a read early sends Cancel")
    func readEmptyAndCancel() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        var missing = 0
        for try await _ in client.read(.stream("missing")) {
            missing += 1
        }
        #expect(missing == 0)

        var seen: [UInt64] = []
        for try await event in client.read(.stream("endless")) {
            seen.append(event.revision)
            if seen.count == 5 { break }
        }
        #expect(seen == [0, 1, 2, 3, 4])
        // The Cancel goes out from the event loop once the iterator is gone.
        for _ in 0..<200 where server.cancelledCalls.isEmpty {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.cancelledCalls.count == 1)
        // The connection still serves calls.
        let result = try await client.append(to: "after", events: [EventData(type: "A", json: "{}")])
        #expect(result.firstRevision == 0)
        await client.close()
        await server.stop()
    }

    @Test("a reader that falls behind holds the server back instead of buffering without bound")
    func backPressure() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        var iterator = client.read(.stream("flood")).makeAsyncIterator()
        #expect(try await iterator.next()?.revision == 0)
        try await Task.sleep(for: .milliseconds(300))
        let sentWhileIdle = server.floodBatchesSent
        // 100 KB batches: without back-pressure the client would have taken hundreds by now.
        #expect(server.floodBlocked)
        #expect(sentWhileIdle < 60)

        // Consuming lets the events flow again, in order.
        for expected in 1...UInt64(3000) {
            #expect(try await iterator.next()?.revision == expected)
        }
        #expect(server.floodBatchesSent > sentWhileIdle)
        await client.close()
        await server.stop()
    }

    @Test("calls on a closed client, and connects to a missing socket, fail with UNAVAILABLE")
    func unavailable() async throws {
        await #expect {
            _ = try await LogbookClient.connect(socketPath: "/tmp/logbook-no-such-\(UInt32.random(in: 0...UInt32.max)).sock")
        } throws: { error in
            (error as? LogbookError)?.code == .unavailable
        }
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        await client.close()
        await #expect {
            try await client.append(to: "s", events: [EventData(type: "A", json: "{}")])
        } throws: { error in
            (error as? LogbookError)?.code == .unavailable
        }
        await server.stop()
    }
}
