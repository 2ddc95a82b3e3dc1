internal import Foundation
internal import Logbook
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbook groups …` and the client library's group calls against the real daemon
/// (DESIGN §5 and §9). The consumer side speaks raw frames, as GroupTests does.
@Suite("Groups from the CLI and the client library", .serialized)
final class GroupCLITests {
    let daemon: Daemon
    let cli: CLI

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
        self.cli = CLI(socketPath: self.daemon.socketPath)
    }

    private func run(_ arguments: [String], expect status: Int32 = 0) throws -> CLI.Result {
        let result = try self.cli.run(arguments)
        #expect(result.status == status, "logbook \(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    @Test func createListInfoAndDelete() throws {
        for (stream, type) in [("order-1", "OrderPlaced"), ("order-1", "OrderPaid"), ("user-1", "UserCreated")] {
            _ = try self.run(["append", stream, "--type", type, "--data", "{}"])
        }

        let created = try #require(try self.run(["groups", "create", "projector", "--all", "--json"]).json().first)
        #expect(created["name"] as? String == "projector")
        #expect(created["selector"] as? [String: [String: Int]] == ["all": [:]])
        #expect(created["from"] as? String == "start")
        #expect(created["strategy"] as? String == "by-stream")
        #expect(created["max_in_flight"] as? Int == 64)
        #expect(created["ack_timeout_ms"] as? Int == 30_000)
        #expect(created["max_deliveries"] as? Int == 10)
        #expect(created["checkpoint"] as? Int == 0)
        #expect(created["lag"] as? Int == 3)

        let readable = try self.run([
            "groups", "create", "orders", "--category", "order", "--strategy", "round-robin", "--from", "2",
            "--max-deliveries", "3", "--ack-timeout", "1.5", "--max-in-flight", "8",
        ])
        #expect(readable.lines == ["created group orders (category order, round-robin, from position 2)"])
        _ = try self.run(["--json", "groups", "create", "paid", "--type", "OrderPaid", "--from", "end", "--strategy", "single"])
        _ = try self.run(["groups", "create", "one", "user-1"])

        let listed = try self.run(["groups", "list", "--json"]).json()
        #expect(listed.compactMap { $0["name"] as? String } == ["one", "orders", "paid", "projector"])
        #expect(listed.compactMap { $0["strategy"] as? String } == ["by-stream", "round-robin", "single", "by-stream"])
        #expect(listed.first?["selector"] as? [String: String] == ["stream": "user-1"])
        #expect(listed.dropFirst(2).first?["selector"] as? [String: String] == ["event_type": "OrderPaid"])
        let table = try self.run(["groups", "list"]).lines
        #expect(table.count == 5)
        #expect(table.first?.hasPrefix("NAME") == true)
        #expect(table.contains { $0.hasPrefix("orders ") && $0.contains("category order") && $0.contains("round-robin") })

        let orders = try self.run(["groups", "info", "orders", "--json"]).json()
        try #require(orders.count == 1)
        #expect(orders[0]["from"] as? Int == 2)
        #expect(orders[0]["checkpoint"] as? Int == 1, "the group starts at position 2, so 1 counts as settled")
        #expect(orders[0]["lag"] as? Int == 2)
        #expect(orders[0]["max_in_flight"] as? Int == 8)
        #expect(orders[0]["max_deliveries"] as? Int == 3)
        #expect(orders[0]["ack_timeout_ms"] as? Int == 1500)
        #expect(orders[0]["consumers"] as? Int == 0)
        #expect(orders[0]["in_flight"] as? Int == 0)
        #expect(orders[0]["parked"] as? Int == 0)
        let paid = try #require(try self.run(["groups", "info", "paid", "--json"]).json().first)
        #expect(paid["from"] as? String == "end")
        #expect(paid["checkpoint"] as? Int == 3)

        let info = try self.run(["groups", "info", "projector"]).lines
        let fields = Dictionary(
            info.map { line in
                let parts = line.split(separator: "  ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(fields["group"] == "projector")
        #expect(fields["selector"] == "$all")
        #expect(fields["strategy"] == "by-stream")
        #expect(fields["ack timeout"] == "30 s")
        #expect(fields["checkpoint"] == "0")
        #expect(fields["lag"] == "3")
        #expect(fields["consumers"] == "0")
        #expect(fields["in flight"] == "0")
        #expect(fields["parked"] == "0")

        let deleted = try #require(try self.run(["groups", "delete", "orders", "--json"]).json().first)
        #expect(deleted["name"] as? String == "orders")
        #expect(deleted["deleted"] as? Bool == true)
        #expect(try self.run(["groups", "delete", "paid"]).lines == ["deleted group paid"])
        #expect(try self.run(["groups", "list", "--json"]).json().compactMap { $0["name"] as? String } == ["one", "projector"])
    }

    @Test func refusalsAndUsageErrorsExitAsDesignSays() throws {
        _ = try self.run(["groups", "create", "g", "--all"])
        let duplicate = try self.run(["groups", "create", "g", "--category", "x"], expect: 6)
        #expect(duplicate.stderr.contains("ALREADY_EXISTS"))
        #expect(duplicate.stdout.isEmpty)
        let missing = try self.run(["groups", "info", "nope"], expect: 5)
        #expect(missing.stderr.contains("NOT_FOUND"))
        _ = try self.run(["groups", "info", "nope", "--json"], expect: 5)
        _ = try self.run(["groups", "delete", "nope"], expect: 5)
        _ = try self.run(["groups", "reset", "nope"], expect: 5)
        _ = try self.run(["groups", "parked", "nope"], expect: 5)
        _ = try self.run(["groups", "replay-parked", "nope"], expect: 5)
        _ = try self.run(["groups", "create", "$reserved", "--all"], expect: 3)

        _ = try self.run(["groups", "create", "h"], expect: 64)
        _ = try self.run(["groups", "create", "h", "s", "--all"], expect: 64)
        _ = try self.run(["groups", "create", "h", "--all", "--strategy", "fastest"], expect: 64)
        _ = try self.run(["groups", "create", "h", "--all", "--max-deliveries", "0"], expect: 64)
        _ = try self.run(["groups", "create", "h", "--all", "--ack-timeout", "-1"], expect: 64)
        _ = try self.run(["groups", "create", "h", "--all", "--from", "later"], expect: 64)
        _ = try self.run(["groups", "info"], expect: 64)
        _ = try self.run(["groups", "reset", "g", "--to", "-3"], expect: 64)

        let unreachable = try self.run(["groups", "list", "--socket", self.daemon.directory.appendingPathComponent("none.sock").path], expect: 14)
        #expect(unreachable.stderr.contains("none.sock"))
        #expect(try self.run(["groups", "list", "--json"]).json().compactMap { $0["name"] as? String } == ["g"])
    }

    // MARK: Parked events, replay and reset through the client library

    /// Receives deliveries until `done` says so, answering each with what `answer` returns
    /// (an ack, or a nack with a reason); returns the positions delivered, in order.
    private func consume(
        _ consumer: RawClient,
        until done: ([UInt64]) -> Bool,
        answer: (LogbookWire.RecordedEvent, Delivery) -> NackAction? = { _, _ in nil }
    ) throws -> [UInt64] {
        var delivered: [UInt64] = []
        while !done(delivered) {
            guard let frame = try consumer.receive() else { throw RawClient.Closed() }
            switch frame.body {
            case .eventBatch(let batch):
                for (event, delivery) in zip(batch.events, batch.deliveries) {
                    delivered.append(event.position)
                    if let action = answer(event, delivery) {
                        try consumer.send(Frame(callID: 1, body: .nack(Nack(deliveryIDs: [delivery.deliveryID], action: action, reason: "poison"))))
                    } else {
                        try consumer.send(Frame(callID: 1, body: .ack(Ack(deliveryIDs: [delivery.deliveryID]))))
                    }
                }
            case .status(let status):
                throw Daemon.DaemonError(message: "the group call ended: \(status)")
            default:
                break
            }
        }
        return delivered
    }

    /// Asks for the group's info until `condition` holds (settlements reach the disk a
    /// moment after the acks), for at most 10 s.
    private func info(_ client: LogbookClient, _ name: String, until condition: (Logbook.GroupInfo) -> Bool) async throws -> Logbook.GroupInfo {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let info = try await client.groupInfo(name)
            if condition(info) || ContinuousClock.now > deadline { return info }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func parkedEventsAndTheirReplayRoundTrip() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        // p-0: positions 1 and 2; p-1: position 3.
        for stream in ["p-0", "p-0", "p-1"] {
            _ = try await client.append(to: stream, events: [EventData(type: "Tested", json: #"{"s":"\#(stream)"}"#)])
        }
        _ = try self.run(["groups", "create", "g", "--all", "--max-deliveries", "1"])

        let consumer = try RawClient(path: self.daemon.socketPath, receiveTimeoutSeconds: 5)
        _ = try consumer.hello()
        try consumer.send(Frame(callID: 1, body: .subscribeRequest(SubscribeRequest(target: .group("g")))))
        // Position 1 is nacked once: past max-deliveries 1 it is parked, and under by-stream
        // position 2 of the same stream is parked behind it, never delivered.
        let first = try self.consume(consumer, until: { $0.contains(1) && $0.contains(3) }) { event, _ in
            event.position == 1 ? .retry : nil
        }
        #expect(first.sorted() == [1, 3])
        let parkedInfo = try await self.info(client, "g") { $0.parked == 2 && $0.checkpoint == 3 }
        #expect(parkedInfo.parked == 2)
        #expect(parkedInfo.checkpoint == 3, "parked positions count as settled")
        #expect(parkedInfo.consumers == 1)

        let parked = try await client.parkedEvents(in: "g")
        #expect(parked.map(\.event.position) == [1, 2])
        let poison = try #require(parked.first)
        #expect(poison.event.stream == "p-0")
        #expect(poison.event.revision == 0)
        #expect(poison.event.type == "Tested")
        #expect(poison.reason.contains("poison"))
        #expect(poison.attempts == 1)
        #expect(abs(poison.parkedAt.timeIntervalSinceNow) < 300)
        #expect(parked.last?.reason.contains("held") == true)
        #expect(try await client.parkedEvents(in: "g", after: 1, limit: 1).map(\.event.position) == [2])
        #expect(try await client.parkedEvents(in: "g", after: 2).isEmpty)

        let parkedJSON = try self.run(["groups", "parked", "g", "--json"]).json()
        #expect(parkedJSON.compactMap { $0["position"] as? Int } == [1, 2])
        #expect(parkedJSON.first?["stream"] as? String == "p-0")
        #expect(parkedJSON.first?["revision"] as? Int == 0)
        #expect(parkedJSON.first?["data"] as? [String: String] == ["s": "p-0"])
        #expect((parkedJSON.first?["reason"] as? String)?.contains("poison") == true)
        #expect(parkedJSON.first?["attempts"] as? Int == 1)
        #expect((parkedJSON.first?["parked_at"] as? String)?.hasSuffix("Z") == true)
        let parkedLines = try self.run(["groups", "parked", "g"]).lines
        #expect(parkedLines.count == 2)
        #expect(parkedLines.first?.hasPrefix("#1 p-0@0 Tested attempts=1 ") == true)
        #expect(parkedLines.first?.contains("poison") == true)
        #expect(parkedLines.last?.hasPrefix("#2 p-0@1 Tested ") == true)
        #expect(try self.run(["groups", "info", "g", "--json"]).json().first?["parked"] as? Int == 2)

        // The replay delivers the parked stream again, in order; acked, nothing stays parked.
        _ = try await client.replayParked(in: "g")
        let replayed = try self.consume(consumer, until: { $0.count == 2 })
        #expect(replayed == [1, 2])
        let replayedInfo = try await self.info(client, "g") { $0.parked == 0 }
        #expect(replayedInfo.parked == 0)
        #expect(replayedInfo.checkpoint == 3, "a replay never moves the checkpoint backwards")
        #expect(replayedInfo.lag == 0)
        #expect(try await client.parkedEvents(in: "g").isEmpty)

        // Once its parked events are replayed and acked, the stream flows again.
        _ = try await client.append(to: "p-0", events: [EventData(type: "Tested", json: "{}")])
        let next = try self.consume(consumer, until: { !$0.isEmpty })
        #expect(next == [4])
        consumer.disconnect()
        await client.close()
    }

    @Test func resetMovesTheCheckpointBothWays() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        for stream in ["r-0", "r-0", "r-1"] {
            _ = try await client.append(to: stream, events: [EventData(type: "Tested", json: "{}")])
        }
        try await client.createGroup(Logbook.GroupSettings(name: "r", selector: .category("r")))
        let consumer = try RawClient(path: self.daemon.socketPath, receiveTimeoutSeconds: 10)
        _ = try consumer.hello()
        try consumer.send(Frame(callID: 1, body: .subscribeRequest(SubscribeRequest(target: .group("r")))))
        #expect(try self.consume(consumer, until: { $0.count == 3 }).sorted() == [1, 2, 3])
        #expect(try await self.info(client, "r") { $0.checkpoint == 3 }.checkpoint == 3)

        // Backwards: what comes after the new checkpoint is delivered again.
        let reset = try await client.resetGroup("r", to: 1)
        #expect(reset.checkpoint == 1)
        #expect(reset.lag == 2)
        #expect(try self.consume(consumer, until: { $0.count == 2 }).sorted() == [2, 3])
        #expect(try await self.info(client, "r") { $0.checkpoint == 3 }.checkpoint == 3)
        consumer.disconnect()
        #expect(try await self.info(client, "r") { $0.consumers == 0 }.consumers == 0)

        // Without a position, back to the group's start; the CLI's --to sets it directly.
        let start = try await client.resetGroup("r")
        #expect(start.checkpoint == 0)
        #expect(start.lag == 3)
        let fromCLI = try #require(try self.run(["groups", "reset", "r", "--to", "2", "--json"]).json().first)
        #expect(fromCLI["checkpoint"] as? Int == 2)
        #expect(fromCLI["lag"] as? Int == 1)
        #expect(try self.run(["groups", "reset", "r"]).lines == ["reset group r: checkpoint 0, lag 3"])
        #expect(try self.run(["groups", "info", "r", "--json"]).json().first?["checkpoint"] as? Int == 0)
        await client.close()
    }

    @Test func theClientLibraryManagesGroups() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let settings = Logbook.GroupSettings(
            name: "projection",
            selector: .category("order"),
            start: .end,
            filter: ReadFilter(eventTypes: ["OrderPaid"]),
            strategy: .single,
            maxInFlight: 4,
            ackTimeout: .seconds(2),
            maxDeliveries: 2,
            retryBackoff: .milliseconds(50)
        )
        let created = try await client.createGroup(settings)
        #expect(created.settings == settings, "the server keeps every setting as given")
        #expect(try await client.groups().map(\.name) == ["projection"])

        await self.expect(.alreadyExists) { try await client.createGroup(settings) }

        var changed = try await client.groupInfo("projection").settings
        changed.maxDeliveries = 5
        changed.strategy = .roundRobin
        let updated = try await client.updateGroup(changed)
        #expect(updated.settings.maxDeliveries == 5)
        #expect(updated.settings.strategy == .roundRobin)
        var moved = changed
        moved.selector = .all
        await self.expect(.invalidArgument) { try await client.updateGroup(moved) }

        // A NUL in a name fails locally; the connection goes on.
        await self.expect(.invalidArgument) { try await client.createGroup(Logbook.GroupSettings(name: "a\u{0}b", selector: .all)) }
        await self.expect(.invalidArgument) { try await client.parkedEvents(in: "projection", limit: 0) }
        await self.expect(.notFound) { try await client.groupInfo("nope") }
        await self.expect(.notFound) { try await client.parkedEvents(in: "nope") }
        await self.expect(.notFound) { try await client.replayParked(in: "nope") }
        await self.expect(.notFound) { try await client.resetGroup("nope", to: 3) }

        try await client.deleteGroup("projection")
        await self.expect(.notFound) { try await client.deleteGroup("projection") }
        #expect(try await client.groups().isEmpty)
        await client.close()
    }

    private func expect(_ code: LogbookError.Code, _ body: () async throws -> Any) async {
        do {
            _ = try await body()
            Issue.record("expected \(code)")
        } catch let error as LogbookError {
            #expect(error.code == code, "\(error)")
        } catch {
            Issue.record("expected a LogbookError, got \(error)")
        }
    }
}
