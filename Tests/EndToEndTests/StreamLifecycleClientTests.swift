internal import Foundation
internal import Logbook
internal import Testing

/// Stream lifecycle (issue 16) through the Swift client and the CLI against the real
/// daemon: deletes, tombstones and bounds, and what reads, subscriptions and groups see.
@Suite("Stream lifecycle", .serialized)
final class StreamLifecycleClientTests {
    let daemon: Daemon

    init() throws {
        self.daemon = try Daemon()
        try self.daemon.start()
    }

    private func events(_ client: LogbookClient, _ selector: ReadSelector) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await event in client.read(selector) { events.append(event) }
        return events
    }

    private func append(_ client: LogbookClient, _ stream: String, _ count: Int, expected: ExpectedRevision = .any) async throws {
        _ = try await client.append(
            to: stream, expected: expected, events: (0..<count).map { EventData(type: "Happened", json: #"{"n":\#($0)}"#) })
    }

    @Test func softDeleteHidesTheStreamUntilAnAppendRecreatesIt() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        try await self.append(client, "order-1", 3)
        try await self.append(client, "order-2", 1)

        await #expect(throws: LogbookError.self) { try await client.deleteStream("order-1", expected: .exact(1)) }
        let deleted = try await client.deleteStream("order-1", expected: .exact(2))
        #expect(deleted.isDeleted && !deleted.isTombstoned && deleted.lastRevision == 2)

        do {
            _ = try await self.events(client, .stream("order-1"))
            Issue.record("reading a deleted stream must throw")
        } catch let error as LogbookError {
            #expect(error.code == .notFound)
            #expect(error.details?.streamDeleted?.stream == "order-1")
            #expect(error.details?.streamDeleted?.hard == false)
        }
        #expect(try await self.events(client, .all).map(\.stream) == ["order-2"])
        #expect(try await self.events(client, .category("order")).map(\.stream) == ["order-2"])

        // An old revision never matches again; no-stream recreates it, revisions going on.
        await #expect(throws: LogbookError.self) { try await self.append(client, "order-1", 1, expected: .exact(2)) }
        try await self.append(client, "order-1", 1, expected: .noStream)
        #expect(try await self.events(client, .stream("order-1")).map(\.revision) == [3])
        #expect(try await client.streamInfo("order-1").isDeleted == false)
        await client.close()
    }

    @Test func aTombstonedStreamIsNeverWrittenAgain() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        try await self.append(client, "user-1", 2)
        let info = try await client.deleteStream("user-1", hard: true)
        #expect(info.isTombstoned)
        for expected in [ExpectedRevision.any, .noStream, .exact(1), .streamExists] {
            do {
                try await self.append(client, "user-1", 1, expected: expected)
                Issue.record("an append to a tombstoned stream must throw")
            } catch let error as LogbookError {
                #expect(error.code == .failedPrecondition)
                #expect(error.details?.streamDeleted?.hard == true)
            }
        }
        // It stays so across a restart.
        await client.close()
        _ = self.daemon.stop()
        try self.daemon.start()
        let again = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        await #expect(throws: LogbookError.self) { try await self.append(again, "user-1", 1) }
        #expect(try await again.streamInfo("user-1").isTombstoned)
        await again.close()
    }

    @Test func boundsHideOlderEventsAtOnce() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        try await self.append(client, "tracking-1", 5)
        let info = try await client.setStreamMetadata("tracking-1", StreamMetadata(maxCount: 2))
        #expect(info.metadata.maxCount == 2 && info.lastRevision == 4)
        #expect(try await self.events(client, .stream("tracking-1")).map(\.revision) == [3, 4])
        try await self.append(client, "tracking-1", 1)
        #expect(try await self.events(client, .stream("tracking-1")).map(\.revision) == [4, 5])
        _ = try await client.setStreamMetadata("tracking-1", StreamMetadata(truncateBefore: 1))
        #expect(try await self.events(client, .stream("tracking-1")).map(\.revision) == [1, 2, 3, 4, 5])
        let read = try await client.streamInfo("tracking-1")
        #expect(read.metadata == StreamMetadata(truncateBefore: 1))
        await #expect(throws: LogbookError.self) {
            try await client.setStreamMetadata("tracking-1", StreamMetadata(maxAge: .milliseconds(10)))
        }
        await client.close()
    }

    @Test func subscriptionsSkipDeletedEventsAndAStreamSubscriptionWaitsForItsRecreation() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        try await self.append(client, "cart-1", 2)
        try await self.append(client, "cart-2", 1)
        try await client.deleteStream("cart-1")
        var all: [String] = []
        for try await message in client.subscribe(.all) {
            if let event = message.event { all.append("\(event.stream)@\(event.revision)") }
            if message.isCaughtUp { break }
        }
        #expect(all == ["cart-2@0"])

        // A subscription to the deleted stream sees nothing until it is recreated.
        let stream = client.subscribe(.stream("cart-1"))
        let first = Task { () -> UInt64? in
            for try await event in stream.events { return event.revision }
            return nil
        }
        try await Task.sleep(for: .milliseconds(200))
        try await self.append(client, "cart-1", 1, expected: .noStream)
        #expect(try await first.value == 2)
        await client.close()
    }

    @Test func groupsSkipDeletedStreamsAndDropTheirParkedEvents() async throws {
        let client = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        try await self.append(client, "ship-1", 2)
        try await self.append(client, "ship-2", 1)
        try await client.deleteStream("ship-1")
        _ = try await client.createGroup(GroupSettings(name: "shipping", selector: .category("ship"), maxDeliveries: 1))
        var consumer = client.consume(group: "shipping").makeAsyncIterator()
        let delivery = try #require(try await consumer.next())
        #expect(delivery.event.stream == "ship-2")
        // Parked, then its stream is deleted: it leaves the parked list.
        try await delivery.nackAndWait(.park, reason: "test")
        var parked = 0
        for _ in 0..<500 where parked == 0 {
            parked = try await client.groupInfo("shipping").parked
            if parked == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(parked == 1)
        try await client.deleteStream("ship-2")
        #expect(try await client.groupInfo("shipping").parked == 0)
        #expect(try await client.parkedEvents(in: "shipping").isEmpty)
        await client.close()
    }

    @Test(.enabled(if: Daemon.onPostgres))
    func daemonsSharingAStoreSeeADeleteAtOnce() async throws {
        let other = try Daemon(sharingStoreOf: self.daemon)
        try other.start()
        defer { _ = other.stop() }
        let here = try await LogbookClient.connect(socketPath: self.daemon.socketPath)
        let there = try await LogbookClient.connect(socketPath: other.socketPath)
        try await self.append(here, "shared-1", 2)
        try await there.deleteStream("shared-1", hard: true)
        await #expect(throws: LogbookError.self) { try await self.append(here, "shared-1", 1) }
        await #expect(throws: LogbookError.self) { try await self.events(here, .stream("shared-1")) }
        #expect(try await here.streamInfo("shared-1").isTombstoned)
        await here.close()
        await there.close()
    }

    @Test func theCLIDeletesAndBoundsStreams() throws {
        let cli = CLI(socketPath: self.daemon.socketPath)
        let event = #"{"type":"T","data":{}}"# + "\n"
        #expect(try cli.run(["append", "log-1"], stdin: event + event + event).status == 0)
        let meta = try cli.run(["streams", "set-meta", "log-1", "--max-count", "1"])
        #expect(meta.stdout.contains("max count 1"))
        #expect(try cli.run(["read", "log-1"]).lines.count == 1)
        let info = try cli.run(["streams", "info", "log-1", "--json"]).json()
        #expect(info.first?["max_count"] as? Int == 1)
        #expect(info.first?["last_revision"] as? Int == 2)
        let refused = try cli.run(["streams", "delete", "log-1", "--expect", "0"])
        #expect(refused.status != 0 && refused.stderr.contains("wrong expected revision"))
        #expect(try cli.run(["streams", "delete", "log-1", "--hard"]).stdout.contains("tombstoned"))
        let append = try cli.run(["append", "log-1"], stdin: event)
        #expect(append.status != 0 && append.stderr.contains("deleted for good"))
        let read = try cli.run(["read", "log-1"])
        #expect(read.status != 0 && read.stderr.contains("NOT_FOUND"))
        let listed = try cli.run(["streams", "--prefix", "log-"]).lines
        #expect(listed.first?.contains("DELETED") == true && listed.last?.hasSuffix("true") == true)
        let bad = try cli.run(["streams", "set-meta", "log-2", "--max-count", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--max-count"))
    }
}
