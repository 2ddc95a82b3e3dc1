internal import Foundation
internal import Logbook
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// scripts/postgres.sh, from this file's place in the repository.
private let postgresScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path

/// Appends that answered UNAVAILABLE, counted across the appending tasks.
private final class Counter: Sendable {
    private let value = Atomic(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// PostgreSQL itself restarting under load, on a cluster of the test's own (the shared
/// test cluster serves other tests meanwhile): what the daemon's clients see, and that
/// nothing acknowledged is lost or written twice.
@Suite(
    "PostgreSQL store: PostgreSQL restarts under load", .serialized,
    .enabled(if: SharedDatabase.adminURL != nil && !Daemon.onPostgres, "needs PostgreSQL (scripts/test.sh)"))
final class PostgresFailoverTests {
    let cluster: URL
    let url: String
    let daemon: Daemon

    init() throws {
        cluster = URL(fileURLWithPath: "/tmp").appendingPathComponent("lb-pg-\(UUID().uuidString.prefix(8))")
        try Self.postgres("start", cluster)
        url = "postgresql:///postgres?host=\(cluster.path)&user=postgres"
        daemon = try Daemon()
        try daemon.start(["--store", url])
    }

    deinit {
        daemon.stop()
        try? Self.postgres("stop", cluster)
        try? FileManager.default.removeItem(at: cluster)
    }

    /// Runs scripts/postgres.sh. Its output is not read through a pipe: the server it
    /// starts would inherit the pipe and hold it open, so the end would never come.
    private static func postgres(_ command: String, _ directory: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: postgresScript)
        process.arguments = [command, directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Daemon.DaemonError(message: "postgres.sh \(command) exited with \(process.terminationStatus)")
        }
    }

    /// Eight clients append without pause, each retrying a failed append with the same
    /// event ids, while PostgreSQL restarts twice; a catch-up subscriber follows `$all`.
    /// Appends in flight at a restart fail with UNAVAILABLE and succeed when retried;
    /// afterwards every event is in the log exactly once, and the subscriber saw every
    /// position in order.
    @Test func appendsResumeAndNothingIsLostOrDoubled() async throws {
        let client = try await LogbookClient.connect(socketPath: daemon.socketPath)
        let subscriber = try await LogbookClient.connect(socketPath: daemon.socketPath)
        let unavailable = Counter()
        let perClient = 150
        let appenders = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for n in 0..<perClient {
                            let event = EventData(id: UUID(), type: "Tick", json: #"{"w":\#(writer),"n":\#(n)}"#)
                            // A daemon that never recovers fails the test here, after a
                            // minute of retries, rather than hanging it.
                            let giveUp = ContinuousClock.now + .seconds(60)
                            while true {
                                do {
                                    _ = try await client.append(to: "w-\(writer)", events: [event], timeout: .seconds(10))
                                    break
                                } catch let error as LogbookError where error.code == .unavailable && ContinuousClock.now < giveUp {
                                    unavailable.add()
                                    try await Task.sleep(for: .milliseconds(50))
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var positions = [UInt64]()
        var restarts = 0
        let following = Task {
            var messages = subscriber.subscribe(.all).makeAsyncIterator()
            var positions = [UInt64]()
            while positions.count < 8 * perClient, let message = try await messages.next() {
                if let event = message.event { positions.append(event.position) }
            }
            return positions
        }
        for round in 1...2 {
            let deadline = ContinuousClock.now + .seconds(60)
            while try await client.read(.all, from: .end, direction: .backwards, limit: 1, timeout: .seconds(10)).first(where: { _ in true })
                .map({ $0.position < UInt64(300 * round) }) ?? true
            {
                guard ContinuousClock.now < deadline else {
                    Issue.record("the log did not reach \(300 * round) events within a minute")
                    return
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            try Self.postgres("restart", cluster)
            restarts += 1
        }
        try await appenders.value
        positions = try await withThrowingTaskGroup(of: [UInt64]?.self) { group in
            group.addTask { try await following.value }
            group.addTask { try await Task.sleep(for: .seconds(60)); return nil }
            let first = try await group.next()!
            group.cancelAll()
            following.cancel()
            return first ?? []
        }
        #expect(restarts == 2)
        #expect(positions == Array(1...UInt64(8 * perClient)), "the subscriber saw every position once, in order")
        var perStream = [String: [UInt64]]()
        for try await event in client.read(.all) { perStream[event.stream, default: []].append(event.revision) }
        for writer in 0..<8 {
            #expect(perStream["w-\(writer)"] == Array(0..<UInt64(perClient)), "each event appended once")
        }
        print("measured: PostgreSQL restarted twice under 8 appending clients; \(unavailable.count) appends answered UNAVAILABLE and succeeded when retried")
        await client.close()
        await subscriber.close()
    }
}
