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
/// The database comes from the throwaway cluster `scripts/test.sh` starts
/// (`LOGBOOK_TEST_POSTGRES`); each test makes its own with `psql`.
@Suite(
    "PostgreSQL store: daemons sharing one database",
    .enabled(if: SharedDatabase.adminURL != nil && !Daemon.onPostgres, "needs LOGBOOK_TEST_POSTGRES (scripts/test.sh starts a cluster)"))
final class PostgresStoreTests {
    let database: SharedDatabase
    let daemons: [Daemon]

    init() throws {
        database = try SharedDatabase()
        daemons = try (0..<3).map { _ in try Daemon() }
        for daemon in daemons {
            try daemon.start(["--store", database.url])
        }
    }

    deinit {
        for daemon in daemons { daemon.stop() }
        database.drop()
    }

    private func clients() async throws -> [LogbookClient] {
        var clients = [LogbookClient]()
        for daemon in daemons {
            clients.append(try await LogbookClient.connect(socketPath: daemon.socketPath))
        }
        return clients
    }

    /// Each round, a client of each daemon appends to one stream expecting the same
    /// revision: exactly one wins, and the stream holds one event per round.
    @Test func expectedRevisionRaceAcrossDaemonsHasOneWinnerPerRound() async throws {
        let clients = try await clients()
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
    @Test func aSubscriberOnOneDaemonSeesEveryAppendFromTheOthers() async throws {
        let clients = try await clients()
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
    @Test func acknowledgedAppendsSurviveSigkillOfTheirDaemon() async throws {
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

    /// What the PostgreSQL store does not serve yet says so, and the daemon goes on.
    @Test func groupsAndViewsAnswerUnimplemented() async throws {
        let cli = CLI(socketPath: daemons[0].socketPath)
        let group = try cli.run(["groups", "create", "g1", "--all"])
        #expect(group.status != 0)
        #expect(group.stderr.contains("UNIMPLEMENTED"), "\(group.stderr)")
        let query = try cli.run(["query", "$streams"])
        #expect(query.stderr.contains("UNIMPLEMENTED"), "\(query.stderr)")
        let append = try cli.run(["append", "after-1", "--type", "T"], stdin: "{}")
        #expect(append.status == 0, "\(append.stderr)")
    }
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
