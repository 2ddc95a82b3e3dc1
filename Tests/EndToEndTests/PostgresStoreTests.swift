internal import Foundation
internal import Logbook
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Three daemons on one PostgreSQL database, as three hosts sharing a store (DESIGN §10):
/// what one commits, the others serve, with every append guarantee kept across them.
///
/// The tests that take a topology run twice: on this host, on a database of the throwaway
/// cluster `scripts/test.sh` starts (`LOGBOOK_TEST_POSTGRES`), and as three hosts in
/// network namespaces reaching a PostgreSQL of their own over TCP (`SharedStoreCluster`).
@Suite(
    "PostgreSQL store: daemons sharing one database", .serialized,
    .enabled(if: SharedDatabase.adminURL != nil && !Daemon.onPostgres, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster)"))
struct PostgresStoreTests {
    private func clients(_ daemons: [Daemon]) async throws -> [LogbookClient] {
        var clients = [LogbookClient]()
        for daemon in daemons {
            clients.append(try await LogbookClient.connect(socketPath: daemon.socketPath))
        }
        return clients
    }

    /// Each round, a client of each daemon appends to one stream expecting the same
    /// revision: exactly one wins, and the stream holds one event per round.
    @Test(arguments: SharedStoreCluster.topologies)
    func expectedRevisionRaceAcrossDaemonsHasOneWinnerPerRound(_ topology: SharedStoreCluster.Topology) async throws {
        let cluster = try SharedStoreCluster(topology)
        let clients = try await clients(cluster.daemons)
        _ = try await clients[0].append(to: "account-1", expected: .noStream, events: [EventData(type: "Opened", json: "{}")])
        for round in 0..<25 {
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for (index, client) in clients.enumerated() {
                    group.addTask {
                        let event = EventData(type: "Deposited", json: #"{"daemon":\#(index)}"#)
                        return (try? await client.append(to: "account-1", expected: .exact(UInt64(round)), events: [event])) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "round \(round): \(outcomes)")
        }
        var revisions = [UInt64]()
        for try await event in clients[2].read(.stream("account-1")) { revisions.append(event.revision) }
        #expect(revisions == Array(0...25))
        for client in clients { await client.close() }
    }

    /// A catch-up subscriber on the third daemon sees every append made on the first two,
    /// in position order and with no gap, live.
    @Test(arguments: SharedStoreCluster.topologies)
    func aSubscriberOnOneDaemonSeesEveryAppendFromTheOthers(_ topology: SharedStoreCluster.Topology) async throws {
        let cluster = try SharedStoreCluster(topology)
        let clients = try await clients(cluster.daemons)
        var messages = clients[2].subscribe(.all).makeAsyncIterator()
        while let message = try await messages.next(), !message.isCaughtUp {}
        let appended = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for index in 0..<2 {
                group.addTask {
                    var positions = [UInt64]()
                    for n in 0..<50 {
                        let result = try await clients[index].append(
                            to: "d\(index)-\(n % 5)", events: [EventData(type: "Tick", json: #"{"n":\#(n)}"#)])
                        positions += result.positions
                    }
                    return positions
                }
            }
            return try await group.reduce(into: [UInt64]()) { $0 += $1 }
        }
        #expect(appended.sorted() == Array(1...100))
        var seen = [UInt64]()
        while seen.count < 100, let message = try await messages.next() {
            if let event = message.event { seen.append(event.position) }
        }
        #expect(seen == Array(1...100), "every position, in order, none twice")
        for client in clients { await client.close() }
    }

    /// A daemon killed with SIGKILL while appending loses nothing it acknowledged: the
    /// others serve every acknowledged event, and the log has no gap.
    @Test(arguments: SharedStoreCluster.topologies)
    func acknowledgedAppendsSurviveSigkillOfTheirDaemon(_ topology: SharedStoreCluster.Topology) async throws {
        let cluster = try SharedStoreCluster(topology)
        let daemons = cluster.daemons
        let victim = try await LogbookClient.connect(socketPath: daemons[0].socketPath)
        let acknowledged = Acknowledged()
        let writer = Task {
            for n in 0..<10_000 {
                guard let result = try? await victim.append(
                    to: "k-\(n % 10)", events: [EventData(type: "Tick", json: #"{"n":\#(n)}"#)], timeout: .seconds(2))
                else { return }
                acknowledged.add(result.positions)
            }
        }
        while acknowledged.count < 50 { try await Task.sleep(for: .milliseconds(10)) }
        daemons[0].stop(signal: SIGKILL)
        _ = await writer.value
        await victim.close()
        let survivor = try await LogbookClient.connect(socketPath: daemons[1].socketPath)
        var positions = Set<UInt64>()
        for try await event in survivor.read(.all) { positions.insert(event.position) }
        #expect(acknowledged.positions.isSubset(of: positions), "every acknowledged append is there")
        #expect(positions == Set(1...UInt64(positions.count)), "positions 1…N, no gap")
        await survivor.close()
    }

    /// A by_stream group with a consumer on each daemon, the first daemon SIGKILLed
    /// mid-run: its partitions pass to the others within the ack timeout, no settlement is
    /// confirmed twice, each stream's events are first delivered in revision order, and
    /// the group settles the whole log.
    @Test(arguments: SharedStoreCluster.topologies)
    func aGroupSharedByThreeDaemonsSettlesEachEventOnceThroughASigkill(_ topology: SharedStoreCluster.Topology) async throws {
        let cluster = try SharedStoreCluster(topology)
        let daemons = cluster.daemons
        let clients = try await clients(daemons)
        let (streams, perStream) = (30, 20)
        for revision in 0..<perStream {
            for stream in 0..<streams {
                _ = try await clients[revision % 3].append(
                    to: "order-\(stream)", events: [EventData(type: "Placed", json: #"{"r":\#(revision)}"#)])
            }
        }
        _ = try await clients[1].createGroup(GroupSettings(
            name: "shipping", selector: .all, strategy: .byStream, maxInFlight: 8, ackTimeout: .seconds(3)))
        let record = Deliveries()
        let consumers = clients.enumerated().map { daemon, client in
            Task {
                // A consumer of the killed daemon keeps trying to reconnect until cancelled.
                for try await delivery in client.consume(group: "shipping") {
                    record.delivered(delivery.event.stream, delivery.event.revision, by: daemon)
                    // Not confirmed when the daemon died first: it may or may not be settled.
                    guard (try? await delivery.ackAndWait()) != nil else { continue }
                    record.confirmed(delivery.event.stream, delivery.event.revision)
                }
            }
        }
        #expect(await eventually(seconds: 30) { record.confirmedCount >= 100 })
        daemons[0].stop(signal: SIGKILL)
        let total = UInt64(streams * perStream)
        var checkpoint: UInt64 = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while checkpoint < total, ContinuousClock.now < deadline {
            checkpoint = (try? await clients[2].groupInfo("shipping").checkpoint) ?? checkpoint
            try await Task.sleep(for: .milliseconds(100))
        }
        for consumer in consumers { consumer.cancel() }
        #expect(checkpoint == total, "the group settled the whole log")
        #expect(record.confirmedTwice.isEmpty, "settlements confirmed twice: \(record.confirmedTwice.prefix(10))")
        #expect(record.outOfOrder.isEmpty, "first deliveries out of revision order: \(record.outOfOrder.prefix(10))")
        #expect(record.deliveringDaemons >= 2, "more than one daemon delivered")
        for client in clients.dropFirst() { await client.close() }
    }

    /// A daemon renews its claim a few times a second here (ack timeout 2 s): a renewal
    /// that finds the same leases, their checkpoints moved by the consumer's own acks,
    /// leaves the consumer alone, and no event comes twice.
    @Test func renewalsLeaveAConsumerAlone() async throws {
        let cluster = try SharedStoreCluster(.oneHost)
        let client = try await LogbookClient.connect(socketPath: cluster.daemons[0].socketPath)
        for n in 0..<30 { _ = try await client.append(to: "r-\(n % 3)", events: [EventData(type: "T", json: "{}")]) }
        _ = try await client.createGroup(GroupSettings(name: "slow", selector: .all, ackTimeout: .seconds(2)))
        var seen = [UInt64]()
        // One in flight, 100 ms each: three seconds in all, about nine renewals.
        for try await delivery in client.consume(group: "slow", maxInFlight: 1) {
            seen.append(delivery.event.position)
            try await Task.sleep(for: .milliseconds(100))
            try await delivery.ackAndWait()
            if Set(seen).count == 30 { break }
        }
        #expect(seen == Array(1...30), "every event once, in order")
        await client.close()
    }

    /// A group created on one daemon is served by another at once, and its deletion there
    /// ends the other's consumers.
    @Test func groupsCreatedAndDeletedOnOneDaemonAreSeenByTheOthers() async throws {
        let cluster = try SharedStoreCluster(.oneHost)
        let clients = try await clients(cluster.daemons)
        _ = try await clients[0].append(to: "a-1", events: [EventData(type: "T", json: "{}")])
        _ = try await clients[0].createGroup(GroupSettings(name: "g1", selector: .all))
        let info = try await clients[2].groupInfo("g1")
        #expect(info.settings.name == "g1")
        var deliveries = clients[2].consume(group: "g1").makeAsyncIterator()
        let first = try await deliveries.next()
        #expect(first?.event.stream == "a-1")
        try await first?.ackAndWait()
        try await clients[1].deleteGroup("g1")
        do {
            while try await deliveries.next() != nil {}
            Issue.record("the consumer's call ended without an error")
        } catch let error as LogbookError {
            #expect(error.code == .notFound, "\(error)")
        }
        for client in clients { await client.close() }
    }

    /// Read-your-writes through a view across daemons: a client of the first daemon
    /// appends and queries there, while the worker that writes the view is a consumer of
    /// the third. Each query waits for its append's position and finds its own event's
    /// effect. The view, defined on the second daemon, is listed by the others; its group
    /// cannot be deleted while it writes the view; dropped on one daemon, it is gone on all.
    @Test(arguments: SharedStoreCluster.topologies)
    func readYourWritesThroughAViewWrittenOnAnotherDaemon(_ topology: SharedStoreCluster.Topology) async throws {
        let cluster = try SharedStoreCluster(topology)
        let clients = try await clients(cluster.daemons)
        _ = try await clients[1].createGroup(GroupSettings(name: "balances", selector: .category("acct")))
        try await clients[1].defineView(ViewDefinition(name: "balances", group: "balances", indexedPaths: ["$.balance"]))
        #expect(try await clients[0].views().map(\.name) == ["balances"])
        let worker = ProjectionWorker.writingViews(client: clients[2], group: "balances") { event in
            [.merge("balances", key: event.stream, patch: String(decoding: event.data, as: UTF8.self))]
        }
        let working = Task { try await worker.run() }
        for round in 1...20 {
            let stream = "acct-\(round % 3)"
            let appended = try await clients[0].append(
                to: stream, events: [EventData(type: "Moved", json: #"{"balance":\#(round)}"#)])
            let page = try await clients[0].query(ViewQuery(
                "balances", keys: .key(stream), consistentWith: appended, wait: .seconds(30)))
            #expect(page.asOfPosition >= appended.positions[0], "round \(round)")
            #expect(page.rows.map(\.json) == [#"{"balance":\#(round)}"#], "round \(round): \(page.rows)")
        }
        let rich = try await clients[1].query(ViewQuery(
            "balances", where: [.greater("$.balance", 17)], orderBy: "$.balance", descending: true))
        #expect(rich.rows.map(\.key) == ["acct-2", "acct-1", "acct-0"], "\(rich.rows)")
        let streams = try await clients[2].query(ViewQuery("$streams", keys: .prefix("acct-")))
        #expect(streams.rows.map(\.key) == ["acct-0", "acct-1", "acct-2"])
        do {
            try await clients[0].deleteGroup("balances")
            Issue.record("a group that writes a view was deleted")
        } catch let error as LogbookError {
            #expect(error.code == .failedPrecondition, "\(error)")
        }
        working.cancel()
        try await clients[1].dropView("balances")
        do {
            _ = try await clients[0].query(ViewQuery("balances"))
            Issue.record("a dropped view answered a query")
        } catch let error as LogbookError {
            #expect(error.code == .notFound, "\(error)")
        }
        #expect(try await clients[2].views().isEmpty)
        for client in clients { await client.close() }
    }
}

/// What the consumers of a shared group saw, across daemons.
private final class Deliveries: Sendable {
    private struct State {
        var next: [String: UInt64] = [:]
        var confirmed: Set<String> = []
        var confirmedTwice: [String] = []
        var outOfOrder: [String] = []
        var daemons: Set<Int> = []
    }

    private let state = Mutex(State())

    /// A first delivery of a stream's revision must follow its predecessor's.
    func delivered(_ stream: String, _ revision: UInt64, by daemon: Int) {
        state.withLock { state in
            state.daemons.insert(daemon)
            let next = state.next[stream, default: 0]
            if revision > next { state.outOfOrder.append("\(stream)@\(revision) before \(next)") }
            if revision == next { state.next[stream] = next + 1 }
        }
    }

    func confirmed(_ stream: String, _ revision: UInt64) {
        state.withLock { state in
            if !state.confirmed.insert("\(stream)@\(revision)").inserted { state.confirmedTwice.append("\(stream)@\(revision)") }
        }
    }

    var confirmedCount: Int { state.withLock { $0.confirmed.count } }
    var confirmedTwice: [String] { state.withLock { $0.confirmedTwice } }
    var outOfOrder: [String] { state.withLock { $0.outOfOrder } }
    var deliveringDaemons: Int { state.withLock { $0.daemons.count } }
}

/// Positions acknowledged to a writer task.
private final class Acknowledged: Sendable {
    private let state = Mutex(Set<UInt64>())
    func add(_ positions: [UInt64]) { state.withLock { $0.formUnion(positions) } }
    var count: Int { state.withLock { $0.count } }
    var positions: Set<UInt64> { state.withLock { $0 } }
}

/// A database of its own in the test cluster, made and dropped with `psql`.
struct SharedDatabase {
    static let adminURL: String? = ProcessInfo.processInfo.environment["LOGBOOK_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    let name: String
    let url: String

    init() throws {
        let admin = try #require(Self.adminURL)
        name = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // The admin URL names the database "postgres"; the test's differs only there.
        url = admin.replacingOccurrences(of: "postgresql:///postgres?", with: "postgresql:///\(name)?")
        try Self.psql("CREATE DATABASE \(name)")
    }

    func drop() {
        try? Self.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    private static func psql(_ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [adminURL ?? "", "-qc", sql]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Daemon.DaemonError(message: "psql '\(sql)' exited with \(process.terminationStatus)")
        }
    }
}
