internal import Foundation
internal import Logbook
internal import Logging
internal import ServiceLifecycle
internal import Testing

/// The client's shared connection across a server that goes away and comes back on the same
/// socket, against the in-process fake server: waiting calls, calls in flight, appends sent
/// again, what is safe to retry, the logs, and the client as a Service.
@Suite("Client reconnection against the fake server")
struct ClientReconnectTests {
    private static func append(_ client: LogbookClient, _ stream: String, timeout: Duration? = nil) async throws -> AppendResult {
        try await client.append(to: stream, events: [EventData(type: "A", json: "{}")], timeout: timeout)
    }

    /// Waits until the server holds `count` requests unanswered.
    private static func heldCalls(_ server: FakeServer, _ count: Int) async -> Bool {
        // Generous: at the start of the whole suite the machine is loaded.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if server.heldCalls >= count { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }

    @Test("after the server comes back on the same socket, calls succeed again, and the loss and reconnection are logged")
    func callsSucceedAfterARestart() async throws {
        let log = LogRecorder()
        var server = try await FakeServer.start()
        let path = server.socketPath
        let client = try await LogbookClient.connect(socketPath: path, logger: log.logger())
        _ = try await Self.append(client, "before")

        await server.stop()
        #expect(await log.waitFor("lost the connection to logbookd"))
        server = try await FakeServer.start(socketPath: path)
        let result = try await Self.append(client, "after")
        #expect(result.firstRevision == 0)
        #expect(server.events(of: "after").count == 1)

        let lost = try #require(log.matching("lost the connection to logbookd").first)
        #expect(lost.level == .info)
        #expect(lost.metadata["logbook.reason"]?.isEmpty == false)
        let reconnected = try #require(log.matching("reconnected to logbookd").first)
        #expect(reconnected.level == .info)
        #expect(reconnected.metadata["logbook.attempts"] == "1")
        #expect(reconnected.metadata["logbook.downtime"] != nil)
        #expect(client.retriedAppends == 0)
        await client.close()
        await server.stop()
    }

    @Test("a call made while the server is down waits for it, and succeeds when it is back")
    func callWaitsForTheServer() async throws {
        let log = LogRecorder()
        var server = try await FakeServer.start()
        let path = server.socketPath
        let client = try await LogbookClient.connect(socketPath: path, logger: log.logger())
        await server.stop()
        #expect(await log.waitFor("lost the connection"))

        let waiting = Task { try await Self.append(client, "waited") }
        // The call found no daemon and backs off: it is waiting now.
        #expect(await log.waitFor("cannot reach logbookd; trying again"))
        server = try await FakeServer.start(socketPath: path)
        let result = try await waiting.value
        #expect(result.positions.count == 1)
        #expect(server.events(of: "waited").count == 1)
        await client.close()
        await server.stop()
    }

    @Test("a call whose timeout runs out while the server stays down fails UNAVAILABLE, safe to retry, saying why")
    func callTimesOutWhileDown() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        await server.stop()
        do {
            _ = try await Self.append(client, "never", timeout: .milliseconds(300))
            Issue.record("the append should fail")
        } catch let error as LogbookError {
            #expect(error.code == .unavailable)
            #expect(error.isSafeToRetry)
            #expect(error.message.contains("could not be reached within"), "\(error)")
        }
        // Without a timeout, the client's reconnect wait bounds the wait.
        var configuration = LogbookClient.Configuration()
        configuration.reconnectWait = .milliseconds(200)
        let impatient = LogbookClient(socketPath: server.socketPath, configuration: configuration)
        await #expect {
            _ = try await impatient.groups()
        } throws: { error in
            (error as? LogbookError)?.code == .unavailable && (error as? LogbookError)?.isSafeToRetry == true
        }
        await client.close()
    }

    @Test("an append in flight when the server dies is sent again, with the same event ids, on the next connection")
    func inFlightAppendIsRetried() async throws {
        let log = LogRecorder()
        var server = try await FakeServer.start()
        let path = server.socketPath
        let client = try await LogbookClient.connect(socketPath: path, logger: log.logger())
        let event = EventData(type: "A", json: #"{"n":1}"#)
        let appending = Task { try await client.append(to: "hold-1", events: [event]) }
        #expect(await Self.heldCalls(server, 1))

        await server.stop()
        server = try await FakeServer.start(socketPath: path)
        // Every fake server holds appends to hold-…: the retry is held again, which shows it
        // arrived, with the same event id.
        #expect(await Self.heldCalls(server, 1))
        #expect(server.heldAppendIDs == [withUnsafeBytes(of: event.id.uuid) { Array($0) }])
        #expect(client.retriedAppends == 1)
        #expect(log.matching("sending an append again").count == 1)
        appending.cancel()
        await client.close()
        await server.stop()
        _ = try? await appending.value
    }

    @Test("a retried append returns what the new connection answered, and the event is written once")
    func retriedAppendSucceeds() async throws {
        var server = try await FakeServer.start()
        let path = server.socketPath
        let client = try await LogbookClient.connect(socketPath: path)
        // Many appends at once, so that some are in flight when the server dies.
        let events = (0..<200).map { EventData(type: "A", json: #"{"n":\#($0)}"#) }
        let results = Task {
            try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for event in events {
                    group.addTask { try await client.append(to: "s-\(event.id)", events: [event]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let old = server
        await server.stop()
        server = try await FakeServer.start(socketPath: path)
        let appended = try await results.value
        // Every append succeeded, whether the old server answered it or the new one did.
        #expect(appended.count == events.count)
        #expect(appended.allSatisfy { $0.positions.count == 1 })
        for event in events {
            let stream = "s-\(event.id)"
            // The fake server has no idempotency, so an append it committed whose answer was
            // lost could be on both; each is on at least one, and never twice on one.
            #expect(old.events(of: stream).count + server.events(of: stream).count >= 1, "\(stream)")
            #expect(server.events(of: stream).count <= 1, "\(stream)")
        }
        await client.close()
        await server.stop()
    }

    @Test("with retries off, an append in flight at the loss fails UNAVAILABLE and is safe to retry")
    func inFlightAppendWithoutRetries() async throws {
        let server = try await FakeServer.start()
        var configuration = LogbookClient.Configuration()
        configuration.retriesAppends = false
        let client = try await LogbookClient.connect(socketPath: server.socketPath, configuration: configuration)
        let appending = Task { try await Self.append(client, "hold-2") }
        #expect(await Self.heldCalls(server, 1))
        await server.stop()
        await #expect {
            _ = try await appending.value
        } throws: { error in
            (error as? LogbookError)?.code == .unavailable && (error as? LogbookError)?.isSafeToRetry == true
        }
        #expect(client.retriedAppends == 0)
        await client.close()
    }

    @Test("a query or an admin read in flight at the loss is safe to retry; an admin change is not")
    func inFlightCallsSaySafeOrNot() async throws {
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath)
        let query = Task { try await client.query("hold_view") }
        let info = Task { try await client.groupInfo("hold-info") }
        let create = Task { try await client.createGroup(GroupSettings(name: "hold-create", selector: .all)) }
        #expect(await Self.heldCalls(server, 3))
        await server.stop()
        for (name, safe, outcome) in [
            ("query", true, await query.result.map { _ in () }),
            ("group info", true, await info.result.map { _ in () }),
            ("create group", false, await create.result.map { _ in () }),
        ] {
            guard case .failure(let failure) = outcome, let error = failure as? LogbookError else {
                Issue.record("\(name) should fail with a LogbookError")
                continue
            }
            #expect(error.code == .unavailable, "\(name)")
            #expect(error.isSafeToRetry == safe, "\(name)")
        }
        await client.close()
    }

    @Test("a read cut off mid-way fails UNAVAILABLE, safe to retry; a read started while down waits")
    func reads() async throws {
        let log = LogRecorder()
        var server = try await FakeServer.start()
        let path = server.socketPath
        let client = try await LogbookClient.connect(socketPath: path, logger: log.logger())
        _ = try await Self.append(client, "r")
        var endless = client.read(.stream("endless")).makeAsyncIterator()
        _ = try await endless.next()
        await server.stop()
        do {
            while try await endless.next() != nil {}
            Issue.record("the read should fail")
        } catch let error as LogbookError {
            #expect(error.code == .unavailable)
            #expect(error.isSafeToRetry)
        }

        #expect(await log.waitFor("lost the connection"))
        let reading = Task { try await client.read(.stream("r2")).reduce(into: 0) { count, _ in count += 1 } }
        #expect(await log.waitFor("cannot reach logbookd; trying again"))
        server = try await FakeServer.start(socketPath: path)
        #expect(try await reading.value == 0)
        await client.close()
        await server.stop()
    }

    @Test("as a Service: calls wait for run() to connect, and a graceful shutdown closes the client")
    func service() async throws {
        let path = FakeServer.makeSocketPath()
        let log = LogRecorder()
        let client = LogbookClient(socketPath: path, logger: log.logger())
        #expect(client.serverInfo.serverVersion == "")
        let group = ServiceGroup(services: [client], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        // run() keeps trying while nothing listens.
        #expect(await log.waitFor("cannot reach logbookd; trying again"))
        let waiting = Task { try await Self.append(client, "svc") }
        let server = try await FakeServer.start(socketPath: path)
        #expect(try await waiting.value.firstRevision == 0)
        #expect(client.serverInfo.serverVersion == "fake")

        await group.triggerGracefulShutdown()
        try await running.value
        await #expect {
            _ = try await Self.append(client, "svc")
        } throws: { error in
            (error as? LogbookError)?.message == "the client was closed"
        }
        await server.stop()
    }

    @Test("a call waiting for the connection ends when its task is cancelled, or when the client closes")
    func waitingCallsEnd() async throws {
        let log = LogRecorder()
        let server = try await FakeServer.start()
        let client = try await LogbookClient.connect(socketPath: server.socketPath, logger: log.logger())
        await server.stop()
        #expect(await log.waitFor("lost the connection"))

        let cancelled = Task { try await Self.append(client, "x") }
        #expect(await log.waitFor("cannot reach logbookd; trying again"))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }

        let closed = Task { try await Self.append(client, "y") }
        #expect(await log.waitFor("cannot reach logbookd; trying again", count: 2))
        await client.close()
        do {
            _ = try await closed.value
            Issue.record("a call waiting when the client closes should fail")
        } catch let error as LogbookError {
            #expect(error.code == .unavailable)
            #expect(error.message == "the client was closed")
            #expect(error.isSafeToRetry, "it was never sent")
        }
    }

    @Test("a client made with init and never run connects on its first call")
    func initConnectsOnDemand() async throws {
        let server = try await FakeServer.start()
        let client = LogbookClient(socketPath: server.socketPath)
        #expect(try await Self.append(client, "lazy").firstRevision == 0)
        await client.close()
        await server.stop()
    }

    @Test("with no socket path, the client takes $LOGBOOK_SOCKET, else ./logbook.sock")
    func defaultSocketPath() {
        #expect(LogbookClient.defaultSocketPath(environment: ["LOGBOOK_SOCKET": "/run/x.sock"]) == "/run/x.sock")
        #expect(LogbookClient.defaultSocketPath(environment: ["LOGBOOK_SOCKET": ""]) == "./logbook.sock")
        #expect(LogbookClient.defaultSocketPath(environment: [:]) == "./logbook.sock")
    }
}
