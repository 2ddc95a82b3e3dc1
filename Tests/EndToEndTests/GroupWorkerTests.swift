internal import Foundation
internal import Logbook
internal import LogbookWire
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Group consumers built on the client library against the real daemon: `logbook subscribe
/// --group` worker processes, and `ProjectionWorker` across a `kill -9` of the daemon.
@Suite("Group workers", .serialized)
struct GroupWorkerTests {
    // MARK: Helpers

    /// Appends `perStream` events to each of `streams` streams: one atomic append per
    /// revision naming every stream, so the streams' events interleave in the log.
    private func seed(_ daemon: Daemon, streams: Int, perStream: Int, prefix: String = "acct") throws {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        for revision in 0..<perStream {
            let request = AppendRequest(streams: (0..<streams).map { stream in
                StreamAppend(
                    stream: "\(prefix)-\(stream)",
                    events: [ProposedEvent(type: "Tested", data: Array("{\"r\":\(revision)}".utf8), contentType: "application/json")]
                )
            })
            let result = try client.call(UInt64(revision + 1), .appendRequest(request))
            try #require(result.status.code == .ok, "\(result.status)")
        }
    }

    private func createGroup(
        _ daemon: Daemon,
        name: String,
        strategy: Strategy = .byStream,
        maxInFlight: UInt32 = 16,
        maxDeliveries: UInt32 = 0
    ) throws {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let result = try client.call(1, .adminRequest(AdminRequest(op: .createGroup(GroupSettings(
            name: name,
            selector: Selector(kind: .all(Empty())),
            strategy: strategy,
            maxInFlight: maxInFlight,
            maxDeliveries: maxDeliveries,
            retryBackoffMs: 10
        )))))
        try #require(result.status.code == .ok, "\(result.status)")
    }

    private func adminReply(_ daemon: Daemon, _ op: AdminRequest.Op) throws -> AdminReply.Result? {
        let client = try RawClient(path: daemon.socketPath)
        _ = try client.hello()
        let result = try client.call(1, .adminRequest(AdminRequest(op: op)))
        try #require(result.status.code == .ok, "\(result.status)")
        for frame in result.frames {
            if case .adminReply(let reply) = frame.body { return reply.result }
        }
        return nil
    }

    private func checkpoint(_ daemon: Daemon, group: String) throws -> UInt64 {
        guard case .group(let info)? = try self.adminReply(daemon, .groupInfo(group)) else {
            throw Daemon.DaemonError(message: "expected group info")
        }
        return info.checkpoint
    }

    /// The group's checkpoint as the daemon had it on disk when it was killed: read by a
    /// second daemon started on a copy of the data, which no consumer knows about (on
    /// PostgreSQL, on the same database).
    private func recordedCheckpoint(_ daemon: Daemon, group: String) throws -> UInt64 {
        let copy = try Daemon(sharingStoreOf: daemon)
        if !Daemon.onPostgres { try FileManager.default.copyItem(atPath: daemon.dataPath, toPath: copy.dataPath) }
        try copy.start()
        defer { copy.stop() }
        return try self.checkpoint(copy, group: group)
    }

    private func client(_ daemon: Daemon) async throws -> LogbookClient {
        try await LogbookClient.connect(socketPath: daemon.socketPath)
    }

    // MARK: Worker processes

    /// Two `logbook subscribe --group g --json --confirmed` processes share a by_stream group
    /// over 100 streams; one is killed with SIGKILL mid-run and the other finishes.
    @Test func twoWorkerProcessesOneKilled() throws {
        let daemon = try Daemon()
        try daemon.start()
        let streams = 100
        let perStream = 20
        let total = UInt64(streams * perStream)
        let maxInFlight = 16
        try self.createGroup(daemon, name: "g", maxInFlight: UInt32(maxInFlight))

        let victim = try WorkerProcess(socketPath: daemon.socketPath, group: "g")
        let survivor = try WorkerProcess(socketPath: daemon.socketPath, group: "g")
        defer {
            victim.kill(SIGKILL)
            survivor.kill(SIGKILL)
        }
        // Both have joined before the events come, so the streams are shared from the start.
        #expect(try eventuallyBlocking {
            guard case .group(let info)? = try self.adminReply(daemon, .groupInfo("g")) else { return false }
            return info.consumers == 2
        })
        try self.seed(daemon, streams: streams, perStream: perStream)
        // Mid-run: both have had work confirmed, and most of the log is still to come.
        #expect(eventuallyBlocking { victim.output.settled.count >= 100 && survivor.output.settled.count >= 100 })
        victim.kill(SIGKILL)
        let killedAt = victim.output
        #expect(killedAt.settled.count < Int(total) / 2, "the victim was killed mid-run")

        #expect(try eventuallyBlocking { try self.checkpoint(daemon, group: "g") == total }, "the survivor settles the rest")
        // The survivor prints each confirmation a moment after the checkpoint moves.
        #expect(eventuallyBlocking {
            let output = survivor.output
            return Set(output.settled.map(\.position)) == Set(output.delivered.map(\.position))
        })
        #expect(survivor.stop() == 0, "SIGTERM ends the worker with 0")
        let survived = survivor.output

        // The union of confirmations has no duplicate.
        let victimPositions = killedAt.settled.map(\.position)
        let survivorPositions = survived.settled.map(\.position)
        #expect(Set(victimPositions).count == victimPositions.count, "the victim confirmed a position twice")
        #expect(Set(survivorPositions).count == survivorPositions.count, "the survivor confirmed a position twice")
        let overlap = Set(victimPositions).intersection(survivorPositions)
        #expect(overlap.isEmpty, "confirmed by both: \(overlap.sorted())")

        // Each worker's confirmations of a stream come in revision order.
        for (name, output) in [("victim", killedAt), ("survivor", survived)] {
            var last: [String: UInt64] = [:]
            for settled in output.settled {
                if let previous = last[settled.stream] {
                    #expect(settled.revision > previous, "\(name): \(settled.stream)@\(settled.revision) after @\(previous)")
                }
                last[settled.stream] = settled.revision
            }
        }

        // What neither confirmed, the victim settled just before it died: it had those
        // deliveries, the survivor never got them, and the checkpoint says they are settled.
        // At most twice max_in_flight: the acks of one settlement write, and of what the
        // victim was sent while that write ran (deliveries do not wait for it).
        let union = Set(victimPositions).union(survivorPositions)
        let unconfirmed = Set(1...total).subtracting(union)
        #expect(unconfirmed.count <= 2 * maxInFlight, "\(unconfirmed.count) positions settled without a confirmation")
        #expect(unconfirmed.isSubset(of: Set(killedAt.delivered.map(\.position))))
        #expect(unconfirmed.isDisjoint(with: Set(survived.delivered.map(\.position))))
        // Every delivery line carries its delivery id and attempt.
        #expect(survived.delivered.allSatisfy { $0.attempt >= 1 && $0.deliveryID >= 1 })
    }

    // MARK: ProjectionWorker

    /// The daemon is killed with SIGKILL and restarted while a `ProjectionWorker` runs in
    /// this process: it reconnects by itself, nothing the daemon had recorded as settled is
    /// handled again, and every event is handled.
    @Test func projectionWorkerSurvivesKillNineOfTheDaemon() async throws {
        let daemon = try Daemon()
        try daemon.start()
        let total: UInt64 = 400
        try self.seed(daemon, streams: 10, perStream: 40)
        try self.createGroup(daemon, name: "g")
        let client = try await self.client(daemon)
        defer { Task { await client.close() } }

        let handled = Mutex<[UInt64]>([])
        let worker = ProjectionWorker(client: client, group: "g") { event in
            try await Task.sleep(for: .milliseconds(1))
            handled.withLock { $0.append(event.position) }
        }
        let running = Task { try await worker.run() }

        // A liveness bound, not a timing: alone this takes well under a second, but beside
        // the whole suite (debug daemons of other tests syncing on the same disk) the first
        // hundred deliveries have taken 30 to 50 s.
        #expect(await eventually(seconds: 120) { handled.withLock { $0.count } >= 100 })
        daemon.stop(signal: SIGKILL)
        let beforeRestart = handled.withLock { $0.count }
        let recorded = try self.recordedCheckpoint(daemon, group: "g")
        try daemon.start()
        let handledBeforeRestart = handled.withLock { Array($0.prefix(beforeRestart)) }
        #expect(recorded > 0, "some settlements reached the disk before the kill")
        #expect(recorded < total, "the kill came mid-run")

        #expect(await eventually { Set(handled.withLock { $0 }).count == Int(total) }, "every event is handled")
        #expect(try await eventually { try self.checkpoint(daemon, group: "g") == total })
        running.cancel()
        try await running.value

        let all = handled.withLock { $0 }
        let afterRestart = all[beforeRestart...]
        let again = afterRestart.filter { $0 <= recorded }
        #expect(again.isEmpty, "recorded as settled before the kill, handled again: \(again)")
        // Only what was in flight at the kill may come twice.
        let duplicates = all.count - Set(all).count
        #expect(duplicates <= 16 * 2, "\(duplicates) events handled twice")
        #expect(
            Set(handledBeforeRestart).count == handledBeforeRestart.count,
            "no duplicate before the kill; the daemon said: \(daemon.log.split(separator: "\n").filter { $0.contains("warning") || $0.contains("error") || $0.contains("share changed") }.prefix(20).joined(separator: "\n"))")
    }

    /// `ackAndWait` across a `kill -9`: a delivery whose settlement was confirmed never
    /// comes again.
    @Test func confirmedAcksNeverComeAgain() async throws {
        let daemon = try Daemon()
        try daemon.start()
        let total = 300
        try self.seed(daemon, streams: 10, perStream: 30)
        try self.createGroup(daemon, name: "g", strategy: .roundRobin)
        let client = try await self.client(daemon)
        defer { Task { await client.close() } }

        let confirmed = Mutex<Set<UInt64>>([])
        let unknown = Mutex<Set<UInt64>>([])
        let redelivered = Mutex<[UInt64]>([])
        let consuming = Task {
            for try await delivery in client.consume(group: "g") {
                let position = delivery.event.position
                if confirmed.withLock({ $0.contains(position) }) {
                    redelivered.withLock { $0.append(position) }
                }
                do {
                    try await delivery.ackAndWait()
                    confirmed.withLock { _ = $0.insert(position) }
                } catch let error as LogbookError {
                    // The connection went before the confirmation: it may come again, or
                    // the ack may have reached the disk.
                    #expect(error.code == .unavailable)
                    unknown.withLock { _ = $0.insert(position) }
                }
            }
        }
        #expect(await eventually { confirmed.withLock { $0.count } >= 50 })
        daemon.stop(signal: SIGKILL)
        try daemon.start()
        #expect(try await eventually { try self.checkpoint(daemon, group: "g") == UInt64(total) })
        consuming.cancel()
        _ = await consuming.result
        #expect(redelivered.withLock { $0 }.isEmpty, "confirmed, then delivered again: \(redelivered.withLock { $0 })")
        let all = confirmed.withLock { $0 }.union(unknown.withLock { $0 })
        #expect(all == Set(1...UInt64(total)), "every event was delivered")
        #expect(confirmed.withLock { $0.count } > 50, "acks are confirmed after the restart too")
    }

    /// A handler that throws nacks with retry: the event comes again (attempt 2) and is
    /// acked once the handler succeeds; one that always throws is parked after the group's
    /// `maxDeliveries`, with the error as the reason.
    @Test func projectionWorkerRetriesWhatTheHandlerThrowsFor() async throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon, streams: 1, perStream: 3, prefix: "order")  // positions 1, 2, 3
        try self.createGroup(daemon, name: "once", maxDeliveries: 5)
        try self.createGroup(daemon, name: "always", maxDeliveries: 2)
        let client = try await self.client(daemon)
        defer { Task { await client.close() } }

        struct Boom: Error, CustomStringConvertible {
            var description: String { "boom at position 2" }
        }

        // Throws the first time it sees position 2: the event comes again, attempt 2, and
        // the stream's next event waits for it (by_stream).
        let seen = Mutex<[UInt64]>([])
        let once = ProjectionWorker(client: client, group: "once") { event in
            let first = seen.withLock { seen in
                defer { seen.append(event.position) }
                return !seen.contains(event.position)
            }
            if event.position == 2, first { throw Boom() }
        }
        let runningOnce = Task { try await once.run() }
        #expect(try await eventually { try self.checkpoint(daemon, group: "once") == 3 })
        runningOnce.cancel()
        try await runningOnce.value
        #expect(seen.withLock { $0 } == [1, 2, 2, 3])

        // The attempts on the wire: a consumer that nacks sees attempt 2.
        let attempts = Mutex<[Int]>([])
        let always = ProjectionWorker(client: client, group: "always") { event in
            if event.position == 2 { throw Boom() }
        }
        let runningAlways = Task { try await always.run() }
        #expect(try await eventually {
            guard case .parked(let list)? = try self.adminReply(daemon, .listParked(ListParked(group: "always"))) else { return false }
            guard let parked = list.events.first(where: { $0.event?.position == 2 }) else { return false }
            attempts.withLock { $0 = [Int(parked.attempts)] }
            return parked.reason.contains("boom at position 2")
        })
        #expect(attempts.withLock { $0 } == [2], "parked after its second delivery")
        runningAlways.cancel()
        try await runningAlways.value

        // Deliveries carry their attempt: the retried one comes back as attempt 2.
        try self.createGroup(daemon, name: "raw", maxDeliveries: 5)
        var iterator = client.consume(group: "raw").makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.attempt == 1)
        await first.nack(.retry, reason: "again")
        let second = try #require(try await iterator.next())
        #expect(second.event.position == first.event.position)
        #expect(second.attempt == 2)
        try await second.ackAndWait()
    }

    /// Deleting the group ends a consumer with NOT_FOUND; so does a group that never existed.
    @Test func aDeletedGroupEndsTheConsumerWithNotFound() async throws {
        let daemon = try Daemon()
        try daemon.start()
        try self.seed(daemon, streams: 1, perStream: 1)
        try self.createGroup(daemon, name: "g")
        let client = try await self.client(daemon)
        defer { Task { await client.close() } }

        var iterator = client.consume(group: "g").makeAsyncIterator()
        let delivery = try #require(try await iterator.next())
        try await delivery.ackAndWait()
        _ = try self.adminReply(daemon, .deleteGroup("g"))
        await #expect(throws: LogbookError.self) {
            do {
                _ = try await iterator.next()
            } catch let error as LogbookError {
                #expect(error.code == .notFound)
                throw error
            }
        }
        let cli = CLI(socketPath: daemon.socketPath)
        let missing = try cli.run(["subscribe", "--group", "nope"])
        #expect(missing.status == 5)
        #expect(missing.stderr.contains("NOT_FOUND"))
    }

    /// `bench subscribe --group` reports every event delivered and acked once, and deletes
    /// its temporary group.
    @Test func benchSubscribeGroupPrintsJSONAndCleansUp() throws {
        let daemon = try Daemon()
        try daemon.start()
        let result = try CLI(socketPath: daemon.socketPath).run(
            ["bench", "subscribe", "--group", "--clients", "2", "--events", "300", "--size", "32", "--json"]
        )
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try result.json().first)
        #expect(report["workload"] as? String == "subscribe-group")
        #expect(report["clients"] as? Int == 2)
        #expect(report["events"] as? Int == 300)
        #expect((report["events_per_second"] as? Double ?? 0) > 0)
        #expect((report["p50_us"] as? Int ?? 0) > 0)
        guard case .groups(let list)? = try self.adminReply(daemon, .listGroups(Empty())) else {
            Issue.record("expected a group list")
            return
        }
        #expect(list.groups.isEmpty, "the temporary group is deleted")
    }
}

/// A `logbook subscribe --group NAME --json --confirmed` process whose stdout is read line
/// by line on a thread of its own.
final class WorkerProcess {
    struct Delivered: Sendable {
        var position: UInt64
        var stream: String
        var revision: UInt64
        var deliveryID: UInt64
        var attempt: Int
    }

    struct Confirmed: Sendable {
        var position: UInt64
        var stream: String
        var revision: UInt64
    }

    struct Output: Sendable {
        var delivered: [Delivered] = []
        var settled: [Confirmed] = []
        var unparsed: [String] = []
    }

    /// Shared with the reading thread.
    private final class Box: Sendable {
        let state = Mutex(Output())
        /// Set when the reader saw the end of the pipe.
        let drained = Atomic(false)
    }

    private let process: Process
    private let box = Box()

    init(socketPath: String, group: String) throws {
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbook")
        process.arguments = ["subscribe", "--group", group, "--json", "--confirmed"]
        var environment = ProcessInfo.processInfo.environment
        environment["LOGBOOK_SOCKET"] = socketPath
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let handle = out.fileHandleForReading
        let box = self.box
        let reader = Thread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty {
                    box.drained.store(true, ordering: .releasing)
                    break
                }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[(newline + 1)...])
                    WorkerProcess.parse(Data(line), into: box)
                }
            }
        }
        reader.start()
    }

    /// What the worker printed so far.
    var output: Output {
        self.box.state.withLock { $0 }
    }

    /// Sends `signal` and waits until the process exited and everything it printed was read.
    func kill(_ signal: Int32) {
        if self.process.isRunning {
            Glibc.kill(self.process.processIdentifier, signal)
            self.process.waitUntilExit()
        }
        let deadline = Date().addingTimeInterval(10)
        while !self.box.drained.load(ordering: .acquiring), Date() < deadline {
            usleep(1000)
        }
    }

    /// SIGTERM; returns the exit status once the process exited and its output was read.
    func stop() -> Int32 {
        self.kill(SIGTERM)
        return self.process.terminationStatus
    }

    private static func parse(_ line: Data, into box: Box) {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            box.state.withLock { $0.unparsed.append(String(decoding: line, as: UTF8.self)) }
            return
        }
        let number = { (key: String) -> UInt64? in (object[key] as? NSNumber)?.uint64Value }
        if let position = number("settled"), let stream = object["stream"] as? String, let revision = number("revision") {
            box.state.withLock { $0.settled.append(Confirmed(position: position, stream: stream, revision: revision)) }
        } else if let position = number("position"), let stream = object["stream"] as? String, let revision = number("revision"),
            let deliveryID = number("delivery_id"), let attempt = number("attempt")
        {
            box.state.withLock {
                $0.delivered.append(Delivered(position: position, stream: stream, revision: revision, deliveryID: deliveryID, attempt: Int(attempt)))
            }
        } else {
            box.state.withLock { $0.unparsed.append(String(decoding: line, as: UTF8.self)) }
        }
    }
}
