internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Clients that misbehave are answered or dropped; everyone else keeps being served.
@Suite("Bad clients", .serialized, .blocksItsThread)
struct RobustnessTests {
    /// A well-behaved client appends and reads on its own connection.
    private func expectServing(_ daemon: Daemon, stream: String) throws {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let append = try client.call(1, .appendRequest(.single(stream)))
        #expect(append.status.code == .ok, "\(append.status)")
        let read = try client.call(2, .readRequest(ReadRequest(selector: Selector(kind: .stream(stream)))))
        #expect(read.status.code == .ok)
        let events = read.frames.flatMap { frame -> [RecordedEvent] in
            if case .eventBatch(let batch) = frame.body { return batch.events }
            return []
        }
        #expect(events.count >= 1)
    }

    private func connectionStatus(_ client: RawClient) throws -> Status? {
        while let frame = try client.receive() {
            if frame.callID == 0, case .status(let status) = frame.body { return status }
        }
        return nil
    }

    @Test func frameDeclaringFourGiBIsRefusedBeforeBuffering() throws {
        let daemon = try Daemon()
        try daemon.start()
        let bad = try RawClient(path: daemon.socketPath)
        _ = try bad.hello()
        try bad.send(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3])
        let status = try #require(try self.connectionStatus(bad))
        #expect(status.code == .resourceExhausted)
        #expect(try bad.receive() == nil, "the connection is closed after the Status")
        try self.expectServing(daemon, stream: "after-huge-1")
    }

    @Test func garbageBytesAreRefused() throws {
        let daemon = try Daemon()
        try daemon.start()
        let bad = try RawClient(path: daemon.socketPath)
        _ = try bad.hello()
        var garbage: [UInt8] = [0, 0, 0, 64]
        garbage += (0..<64).map { _ in UInt8.random(in: 0x80...0xFF) }
        try bad.send(bytes: garbage)
        let status = try #require(try self.connectionStatus(bad))
        #expect(status.code == .invalidArgument)
        #expect(try bad.receive() == nil)

        // Pure noise before any Hello: the daemon answers or drops, and survives.
        let noisy = try RawClient(path: daemon.socketPath)
        try? noisy.send(bytes: (0..<4096).map { _ in UInt8.random(in: 0...255) })
        _ = try? self.connectionStatus(noisy)
        try self.expectServing(daemon, stream: "after-garbage-1")
    }

    @Test func firstFrameMustBeHello() throws {
        let daemon = try Daemon()
        try daemon.start()
        let bad = try RawClient(path: daemon.socketPath)
        try bad.send(Frame(callID: 1, body: .appendRequest(.single("no-hello-1"))))
        let status = try #require(try self.connectionStatus(bad))
        #expect(status.code == .invalidArgument)
        #expect(status.message.contains("Hello"))
        #expect(try bad.receive() == nil)
        let read = try RawClient(path: daemon.socketPath)
        _ = try read.hello()
        let result = try read.call(1, .readRequest(ReadRequest(selector: Selector(kind: .stream("no-hello-1")))))
        #expect(result.status.code == .ok)
        #expect(result.frames.isEmpty, "the append sent before Hello was not executed")
    }

    /// A connection over the cap is refused before anything it sends is read: no
    /// HelloReply, and an append pipelined behind its Hello is not run.
    @Test func aRefusedConnectionIsAnsweredOnlyWithItsRefusal() throws {
        let daemon = try Daemon()
        try daemon.start(["--connections-max", "1"])
        let held = try RawClient(path: daemon.socketPath)
        _ = try held.hello()
        for attempt in 1...5 {
            let refused = try RawClient(path: daemon.socketPath)
            // The daemon may have closed it already: what it answered is what counts.
            try? refused.send([
                Frame(callID: 0, body: .hello(Hello(protocolVersion: 1, clientName: "e2e-refused"))),
                Frame(callID: 1, body: .appendRequest(.single("refused-\(attempt)"))),
            ])
            let first = try #require(try refused.receive())
            #expect(first.callID == 0)
            guard case .status(let status) = first.body else {
                Issue.record("a refused connection was answered with \(first) before its refusal")
                continue
            }
            #expect(status.code == .resourceExhausted)
            #expect(status.message.contains("limit 1"))
            #expect(try refused.receive() == nil)
            let read = try held.call(UInt64(attempt), .readRequest(ReadRequest(selector: Selector(kind: .stream("refused-\(attempt)")))))
            #expect(read.status.code == .ok)
            #expect(read.frames.isEmpty, "the append sent on a refused connection was not run")
        }
    }

    @Test func silentClientIsDroppedAfterTheHelloTimeout() throws {
        let daemon = try Daemon()
        try daemon.start(["--hello-timeout", "1"])
        let silent = try RawClient(path: daemon.socketPath)
        try self.expectServing(daemon, stream: "beside-silent-1")
        let status = try #require(try self.connectionStatus(silent))
        #expect(status.code == .deadlineExceeded)
        #expect(try silent.receive() == nil)
        try self.expectServing(daemon, stream: "beside-silent-2")
    }

    @Test func oneEventLoopServesManyConnections() throws {
        let daemon = try Daemon()
        try daemon.start(["--event-loops", "1"])
        let clients = try (0..<3).map { _ in try RawClient(path: daemon.socketPath) }
        for client in clients { _ = try client.hello() }
        for (index, client) in clients.enumerated() {
            try client.send(Frame(callID: 1, body: .appendRequest(.single("one-loop-\(index)"))))
        }
        for client in clients {
            let reply = try #require(try client.receive())
            guard case .appendReply = reply.body else {
                Issue.record("expected an AppendReply, got \(reply.body.map(String.init(describing:)) ?? "nothing")")
                continue
            }
            #expect(try client.receive()?.body == .status(Status(code: .ok)))
        }
        try self.expectServing(daemon, stream: "one-loop-after")
        // No loop at all is refused at start, saying why.
        let none = try Daemon()
        #expect(throws: Daemon.DaemonError.self) { try none.start(["--event-loops", "0"]) }
        #expect(none.log.contains("--event-loops must be between 1 and 256"), "\(none.log)")
    }

    /// NIO's accept loop dropped connections it still buffered when SIGTERM ended it, and a
    /// dropped connection trapped the daemon ("Deinited NIOAsyncWriter without calling
    /// finish()", exit 4). Connections opened in a burst right before SIGTERM must not.
    @Test func sigtermJustAfterABurstOfConnectionsExitsCleanly() throws {
        for round in 1...5 {
            let daemon = try Daemon()
            try daemon.start()
            let clients = try (0..<32).map { _ in try RawClient(path: daemon.socketPath) }
            let status = daemon.stop(signal: SIGTERM)
            #expect(status == 0, "round \(round): \(daemon.log.split(separator: "\n").suffix(8).joined(separator: "\n"))")
            _ = clients
        }
    }

    @Test func helloReplyCarriesLimitsAndPeerCredentials() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        let reply = try client.hello()
        #expect(reply.protocolVersion == 1)
        #expect(reply.peerUid == getuid())
        #expect(reply.peerGid == getgid())
        #expect(reply.peerPid == UInt32(getpid()))
        #expect(reply.limits?.frameBytesMax == 16 << 20)
        // The mode is set just after the bind, before the daemon logs that it listens (in
        // between the socket is the umask's 0700: narrower, never wider).
        #expect(eventuallyBlocking { daemon.log.contains("listening") })
        let attributes = try FileManager.default.attributesOfItem(atPath: daemon.socketPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o660, "the socket is created with mode 0660")
    }

    @Test func lifecycleCallsRefuseBadInputAndKeepServing() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let deletion = try client.call(2, .adminRequest(AdminRequest(op: .deleteStream(DeleteStream(stream: "s")))))
        #expect(deletion.status.code == .ok)
        let nameless = try client.call(3, .adminRequest(AdminRequest(op: .deleteStream(DeleteStream(stream: "")))))
        #expect(nameless.status.code == .invalidArgument)
        let ancient = StreamMetadata(maxAgeSeconds: .max)
        let tooOld = try client.call(4, .adminRequest(AdminRequest(op: .setStreamMetadata(SetStreamMetadata(stream: "s", metadata: ancient)))))
        #expect(tooOld.status.code == .invalidArgument)
        let info = try client.call(5, .adminRequest(AdminRequest(op: .getStreamMetadata(""))))
        #expect(info.status.code == .invalidArgument)
        let query = try client.call(6, .queryRequest(QueryRequest(view: "v")))
        #expect(query.status.code == .notFound)
        try self.expectServing(daemon, stream: "after-refusals-1")
    }

    @Test func manyConcurrentCallsOnOneConnection() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let count = 200
        try client.send((1...count).map { Frame(callID: UInt64($0), body: .appendRequest(.single("multi-\($0 % 7)"))) })
        var statuses: [UInt64: Status] = [:]
        var replies: Set<UInt64> = []
        while statuses.count < count, let frame = try client.receive() {
            switch frame.body {
            case .status(let status): statuses[frame.callID] = status
            case .appendReply: replies.insert(frame.callID)
            default: break
            }
        }
        #expect(statuses.count == count)
        #expect(statuses.values.allSatisfy { $0.code == .ok })
        #expect(replies == Set((1...count).map(UInt64.init)))
    }

    @Test func badRequestsGetClearErrors() throws {
        let daemon = try Daemon()
        try daemon.start()
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let noStreams = try client.call(1, .appendRequest(AppendRequest()))
        #expect(noStreams.status.code == .invalidArgument)
        let badID = try client.call(2, .appendRequest(AppendRequest(streams: [
            StreamAppend(stream: "bad-id", events: [ProposedEvent(id: [1, 2, 3], type: "T")])
        ])))
        #expect(badID.status.code == .invalidArgument)
        let noType = try client.call(3, .appendRequest(AppendRequest(streams: [
            StreamAppend(stream: "no-type", events: [ProposedEvent(type: "")])
        ])))
        #expect(noType.status.code == .invalidArgument)
        let duplicateKeys = try client.call(5, .appendRequest(AppendRequest(streams: [
            StreamAppend(stream: "dup-meta", events: [ProposedEvent(
                type: "T",
                metadata: [MetadataEntry(key: "k", value: "1"), MetadataEntry(key: "k", value: "2")]
            )])
        ])))
        #expect(duplicateKeys.status.code == .invalidArgument)
        let noSelector = try client.call(4, .readRequest(ReadRequest()))
        #expect(noSelector.status.code == .invalidArgument)
        // A string with a NUL inside, hand-encoded (Swift's encoder refuses to write one):
        // append_request { streams { stream: "a\0b" } }.
        let payload: [UInt8] = [0x08, 0x05, 0xA2, 0x01, 0x07, 0x0A, 0x05, 0x0A, 0x03, 0x61, 0x00, 0x62]
        try client.send(bytes: [0, 0, 0, UInt8(payload.count)] + payload)
        var refused: Status?
        while refused == nil, let frame = try client.receive() {
            if case .status(let status) = frame.body {
                #expect(frame.callID == 5, "the refusal answers the call, not the connection")
                refused = status
            }
        }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.contains("NUL") == true)
        // The connection and its other calls go on.
        #expect(try client.call(6, .appendRequest(.single("after-nul-1"))).status.code == .ok)
        try self.expectServing(daemon, stream: "after-bad-requests-1")
    }
}
