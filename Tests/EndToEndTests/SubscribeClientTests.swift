internal import Foundation
internal import Logbook
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Catch-up subscriptions through the Swift client library and the CLI, against the real
/// daemon: history, CaughtUp, live events, daemon restarts, refusals, `bench subscribe`.
@Suite("Subscribe: client and CLI", .serialized)
final class SubscribeClientTests {
    let daemon: Daemon
    let cli: CLI

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
        self.cli = CLI(socketPath: self.daemon.socketPath)
    }

    /// Appends `count` events to `stream`, `batch` per append, with `{"n": index}` data.
    private func append(_ stream: String, count: Int, batch: Int = 50, first: Int = 0) async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        var index = first
        while index < first + count {
            let end = min(first + count, index + batch)
            let events = (index..<end).map { EventData(type: "Tick", json: #"{"n":\#($0)}"#) }
            _ = try await client.append(to: stream, events: events)
            index = end
        }
        await client.close()
    }

    @Test func historyThenCaughtUpThenLiveEvents() async throws {
        try await self.append("order-1", count: 5)
        try await self.append("user-1", count: 2)
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        var messages = client.subscribe(.stream("order-1")).makeAsyncIterator()
        var seen: [SubscriptionMessage] = []
        while let message = try await messages.next() {
            seen.append(message)
            if message.isCaughtUp { break }
        }
        #expect(seen.compactMap(\.event).map(\.revision) == [0, 1, 2, 3, 4])
        #expect(seen.last == .caughtUp(position: 7), "caught up at the head of the log")

        try await self.append("user-1", count: 1)
        try await self.append("order-1", count: 3, first: 5)
        var live: [RecordedEvent] = []
        while live.count < 3, let message = try await messages.next() {
            if let event = message.event { live.append(event) }
        }
        #expect(live.map(\.revision) == [5, 6, 7])
        #expect(live.map(\.position) == [9, 10, 11])

        // From a position, exclusive; the events view drops the markers.
        var after: [UInt64] = []
        for try await event in client.subscribe(.all, from: .after(position: 8)).events {
            after.append(event.position)
            if after.count == 3 { break }
        }
        #expect(after == [9, 10, 11])
        // From a revision of a stream.
        var revisions: [UInt64] = []
        for try await event in client.subscribe(.stream("order-1"), from: .after(revision: 5)).events {
            revisions.append(event.revision)
            if revisions.count == 2 { break }
        }
        #expect(revisions == [6, 7])
        await client.close()
    }

    @Test func aFilteredSubscriptionGetsCheckpointsThroughSkippedEvents() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let received = Mutex<[SubscriptionMessage]>([])
        let consumer = Task {
            for try await message in client.subscribe(.all, filter: ReadFilter(streamPrefix: "wanted-")) {
                received.withLock { $0.append(message) }
                if message.event != nil { return }
            }
        }
        #expect(await eventually { received.withLock { $0.first } == .caughtUp(position: 0) })
        // Noise, a batch at a time, until the subscription says how far it has looked through
        // it (at most once per checkpoint interval, while nothing matches).
        var noise = 0
        while !received.withLock({ $0.contains(where: \.isCheckpoint) }), noise < 20_000 {
            try await self.append("noise-1", count: 20, first: noise)
            noise += 20
            try await Task.sleep(for: .milliseconds(20))
        }
        let wanted = try await client.append(to: "wanted-1", events: [EventData(type: "Tick", json: "{}")])
        try await consumer.value
        let event = received.withLock { $0.last?.event }
        let checkpoints = received.withLock { $0.filter(\.isCheckpoint).map(\.position) }
        #expect(!checkpoints.isEmpty)
        #expect(checkpoints.allSatisfy { $0 <= UInt64(noise) })
        #expect(checkpoints == checkpoints.sorted(), "checkpoints only move forwards")
        #expect(event?.stream == "wanted-1")
        #expect(event?.position == wanted.positions.first)
        #expect(event?.position == UInt64(noise) + 1)
        await client.close()
    }

    @Test func aSubscriptionSurvivesDaemonRestartsWithNoGapAndNoDuplicate() async throws {
        // More history than the credit window, so the restart lands mid-history.
        try await self.append("before-1", count: 2000, batch: 500)
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let positions = Mutex<[UInt64]>([])
        let caughtUps = Mutex(0)
        let consumer = Task {
            // A slow consumer: the credit window, not a growing buffer, holds the server back.
            for try await message in client.subscribe(.all) {
                if let event = message.event {
                    positions.withLock { $0.append(event.position) }
                    if event.position < 1500 { try await Task.sleep(for: .milliseconds(1)) }
                } else if message.isCaughtUp {
                    caughtUps.withLock { $0 += 1 }
                }
            }
        }
        #expect(await eventually { positions.withLock { $0.count } >= 100 }, "the consumer got going")
        #expect(positions.withLock { $0.count } < 1000, "still in the history")
        // A clean shutdown (UNAVAILABLE to the subscriber) in the middle of the history.
        #expect(self.daemon.stop(signal: SIGTERM) == 0, "\(self.daemon.log)")
        try await Task.sleep(for: .milliseconds(300))  // the subscription retries while the daemon is away
        try self.daemon.start()
        try await self.append("between-1", count: 300)
        #expect(await eventually { positions.withLock { $0.count } >= 2300 }, "\(positions.withLock { $0.count }) of 2300")
        // A crash while live.
        self.daemon.stop(signal: SIGKILL)
        try self.daemon.start()
        try await self.append("after-1", count: 300)
        #expect(await eventually { positions.withLock { $0.count } >= 2600 }, "\(positions.withLock { $0.count }) of 2600")
        try await Task.sleep(for: .milliseconds(200))
        consumer.cancel()
        let ended = await consumer.result
        #expect(throws: CancellationError.self) { try ended.get() }
        let seen = positions.withLock { $0 }
        let duplicates = seen.count - Set(seen).count
        let missing = Set(1...2600).subtracting(seen).sorted()
        #expect(duplicates == 0, "no duplicate")
        #expect(missing == [], "no gap")
        #expect(seen == seen.sorted(), "in position order")
        #expect(caughtUps.withLock { $0 } == 1, "a reconnection is not news to the consumer")
        await client.close()
    }

    @Test func aRefusalEndsTheSequenceWithTheError() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let name = String(repeating: "x", count: 5000)
        await #expect(throws: LogbookError.self) {
            for try await _ in client.subscribe(.stream(name)) {}
        }
        do {
            for try await _ in client.subscribe(.stream(name)) {}
        } catch let error as LogbookError {
            #expect(error.code != .unavailable)
        }
        await #expect(throws: LogbookError.self) {
            for try await _ in client.subscribe(.all, from: .after(revision: 1)) {}
        }
        await client.close()
    }

    @Test func stoppingTheIterationEndsTheCallOnTheServer() async throws {
        try await self.append("stop-1", count: 2000, batch: 500)
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        for _ in 0..<20 {
            var count = 0
            for try await _ in client.subscribe(.all).events {
                count += 1
                if count == 10 { break }
            }
        }
        // The daemon ended those calls: its log shows no leftover work and it still serves.
        let result = try await client.append(to: "stop-2", events: [EventData(type: "X", json: "{}")])
        #expect(result.positions == [2001])
        await client.close()
    }

    // MARK: CLI

    @Test func cliSubscribePrintsHistoryThenNewEventsUntilInterrupted() async throws {
        try await self.append("cli-1", count: 3)
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbook")
        process.arguments = ["subscribe", "--all", "--json", "--socket", self.daemon.socketPath]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let output = Mutex(Data())
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            output.withLock { $0.append(data) }
        }
        try process.run()
        func lines() -> [[String: Any]] {
            let text = output.withLock { String(decoding: $0, as: UTF8.self) }
            return text.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
        }
        #expect(await eventually { lines().count >= 3 }, "history printed")
        try await self.append("cli-2", count: 2)
        #expect(await eventually { lines().count >= 5 }, "new events printed while it runs")
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(errors)")
        let events = lines()
        #expect(events.map { $0["position"] as? Int } == [1, 2, 3, 4, 5])
        #expect(events.map { $0["stream"] as? String } == ["cli-1", "cli-1", "cli-1", "cli-2", "cli-2"])
        #expect((events.last?["data"] as? [String: Any])?["n"] as? Int == 1)
    }

    @Test func cliSubscribeFromEndAndSIGTERM() async throws {
        try await self.append("cli-3", count: 3)
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbook")
        process.arguments = ["subscribe", "cli-3", "--from", "end", "--socket", self.daemon.socketPath]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let output = Mutex(Data())
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            output.withLock { $0.append(data) }
        }
        let notes = Mutex(Data())
        err.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            notes.withLock { $0.append(data) }
        }
        try process.run()
        // "--from end" means the end when the subscription starts: append only once it has.
        #expect(await eventually { notes.withLock { String(decoding: $0, as: UTF8.self) }.contains("caught up at 3") })
        try await self.append("cli-3", count: 1, first: 3)
        func text() -> String { output.withLock { String(decoding: $0, as: UTF8.self) } }
        #expect(await eventually { text().contains("\n") }, "the new event printed")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        #expect(process.terminationStatus == 0)
        let printed = text().split(separator: "\n")
        #expect(printed.count == 1)
        #expect(printed.first?.hasPrefix("#4 cli-3@3 ") == true, "\(printed)")
    }

    @Test func cliSubscribeToAGroupThatDoesNotExist() throws {
        let result = try self.cli.run(["subscribe", "--group", "x"])
        #expect(result.status == 5, "NOT_FOUND")
        #expect(result.stderr.contains("NOT_FOUND"))
        let usage = try self.cli.run(["subscribe"])
        #expect(usage.status == 64)
        let confirmedWithoutGroup = try self.cli.run(["subscribe", "--all", "--confirmed"])
        #expect(confirmedWithoutGroup.status == 64)
    }

    @Test func cliSubscribeRefusedExitsWithTheStatusCode() throws {
        let result = try self.cli.run(["subscribe", String(repeating: "x", count: 5000)])
        #expect(result.status != 0 && result.status != 1, "\(result.stderr)")
        #expect(result.stderr.contains("error:"))
    }

    @Test func benchSubscribePrintsJSON() throws {
        let result = try self.cli.run(["bench", "subscribe", "--clients", "2", "--events", "300", "--size", "32", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try result.json().first)
        #expect(report["workload"] as? String == "subscribe")
        #expect(report["clients"] as? Int == 2)
        #expect(report["events"] as? Int == 600, "every subscriber got every event")
        #expect((report["events_per_second"] as? Double ?? 0) > 0)
        #expect((report["p50_us"] as? Int ?? 0) > 0)
        #expect(report["p999_us"] != nil)
        let sinceCommit = try #require(report["since_commit_p99_us"] as? Int, "the commit-to-delivery latency")
        #expect(sinceCommit <= (report["p99_us"] as? Int ?? 0) + 1000, "a commit comes after its append was sent")
    }
}
