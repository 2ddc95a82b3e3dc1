internal import Foundation
internal import Logbook
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbook backup`, `logbook backup --verify` and `logbookd restore` against real daemons:
/// a backup taken under load restores every event up to its position, byte for byte, and
/// a projection whose view was backed up with its group carries on from it exactly once.
@Suite("Backup and restore", .serialized, .blocksItsThread)
struct BackupTests {
    private static let customers = ["ann", "bob", "cy"]

    /// Runs `logbookd` with `arguments` (a restore) and returns its status and output.
    private static func logbookd(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbookd")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Every event of the log, in order.
    private static func readAll(_ socketPath: String, upTo position: UInt64? = nil) async throws -> [RecordedEvent] {
        let client = try await LogbookClient.connect(socketPath: socketPath)
        defer { Task { await client.close() } }
        var events: [RecordedEvent] = []
        for try await event in client.read(.all) {
            if let position, event.position > position { break }
            events.append(event)
        }
        return events
    }

    /// 50 clients append orders, each to a stream of its own, until `stop` is set; returns
    /// the orders appended.
    private static func appendOrders(_ socketPath: String, clients: Int, stop: StopFlag) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for client in 0..<clients {
                group.addTask {
                    let connection = try await LogbookClient.connect(socketPath: socketPath)
                    var appended = 0
                    while !stop.isSet {
                        let customer = Self.customers[(client + appended) % Self.customers.count]
                        let total = Double(appended % 7) + 0.5
                        _ = try await connection.append(
                            to: "order-\(client)x\(appended)",
                            events: [EventData(type: "OrderPlaced", json: #"{"customer":"\#(customer)","total":\#(total)}"#)])
                        appended += 1
                    }
                    await connection.close()
                    return appended
                }
            }
            return try await group.reduce(0, +)
        }
    }

    @Test(.enabled(if: !Daemon.onPostgres))
    func aBackupUnderFiftyAppendersRestoresEveryEventAndTheViewAsOfIt() async throws {
        let daemon = try Daemon()
        // Small segments (64 KiB, some 300 orders each): the backup spans sealed ones and the
        // active one after a few thousand events, however slow the machine.
        try daemon.start(["--log-segment-bytes", "65536"])
        let cli = CLI(socketPath: daemon.socketPath)
        let worker = try ExampleWorkerTests.startWorker(daemon)
        defer { if worker.isRunning { kill(worker.processIdentifier, SIGKILL) } }

        let stop = StopFlag()
        let appending = Task { try await Self.appendOrders(daemon.socketPath, clients: 50, stop: stop) }
        #expect(eventuallyBlocking(seconds: 600) {
            (try? cli.run(["read", "--all", "--backward", "--limit", "1", "--json"]).json().first?["position"] as? Int) ?? 0 >= 1500
        })
        let backupPath = daemon.directory.appendingPathComponent("backup").path
        let backup = try cli.run(["backup", backupPath, "--json"])
        try #require(backup.status == 0, "\(backup.stderr)")
        let position = try #require(try backup.json().first?["position"] as? Int)
        // Appends go on past the backup, then stop.
        #expect(eventuallyBlocking(seconds: 300) {
            (try? cli.run(["read", "--all", "--backward", "--limit", "1", "--json"]).json().first?["position"] as? Int) ?? 0 >= position + 500
        })
        stop.set()
        let appended = try await appending.value
        #expect(appended > position)
        kill(worker.processIdentifier, SIGKILL)

        let files = try FileManager.default.contentsOfDirectory(atPath: backupPath + "/log")
        #expect(files.count >= 2, "the backup spans several segments: \(files)")
        let verified = try cli.run(["backup", "--verify", backupPath, "--json"])
        try #require(verified.status == 0, "\(verified.stderr)")
        #expect(try verified.json().first?["records_checked"] as? Int == position)

        let restored = try Daemon()
        let restore = try Self.logbookd(["restore", backupPath, "--data", restored.dataPath])
        try #require(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("position \(position)"))
        try restored.start()

        // Every event up to the backup's position, byte for byte, and nothing after it.
        let original = try await Self.readAll(daemon.socketPath, upTo: UInt64(position))
        let copy = try await Self.readAll(restored.socketPath)
        #expect(copy.count == position)
        #expect(copy == original)

        // The group and its view as of the backup: the worker carries on from the
        // restored checkpoint and ends with every order up to the position counted once.
        let restoredCLI = CLI(socketPath: restored.socketPath)
        let group = try restoredCLI.run(["groups", "info", "order-summaries", "--json"])
        try #require(group.status == 0, "\(group.stderr)")
        let checkpoint = try #require(try group.json().first?["checkpoint"] as? Int)
        #expect(checkpoint <= position)
        let restoredWorker = try ExampleWorkerTests.startWorker(restored)
        defer { if restoredWorker.isRunning { kill(restoredWorker.processIdentifier, SIGKILL) } }
        var expected: [String: (orders: Int, total: Double)] = [:]
        for event in copy where event.type == "OrderPlaced" {
            let order = try JSONSerialization.jsonObject(with: Data(event.data)) as! [String: Any]
            let customer = order["customer"] as! String
            expected[customer, default: (0, 0)].orders += 1
            expected[customer, default: (0, 0)].total += order["total"] as! Double
        }
        let summaries = try restoredCLI.run(["query", "order_summaries", "--min-position", "\(position)", "--wait", "120000", "--json"])
        try #require(summaries.status == 0, "\(summaries.stderr)")
        var seen: [String: (orders: Int, total: Double)] = [:]
        for row in try summaries.json() {
            let document = try #require(row["doc"] as? [String: Any])
            seen[try #require(row["key"] as? String)] = (try #require(document["orders"] as? Int), try #require(document["total"] as? Double))
        }
        #expect(seen.keys.sorted() == Self.customers)
        for customer in Self.customers {
            #expect(seen[customer]?.orders == expected[customer]?.orders, "\(customer)")
            #expect(abs((seen[customer]?.total ?? -1) - (expected[customer]?.total ?? 0)) < 0.001, "\(customer)")
        }
        // The restored daemon takes appends after the backup's position.
        let next = try restoredCLI.run(["append", "after-restore", "--type", "T", "--data", "{}", "--json"])
        #expect((try next.json().first?["positions"] as? [Int]) == [position + 1])
    }

    @Test(.enabled(if: !Daemon.onPostgres))
    func theSQLiteEngineBacksUpAndRestoresToo() async throws {
        let daemon = try Daemon()
        try daemon.start(["--engine", "sqlite"])
        let cli = CLI(socketPath: daemon.socketPath)
        for index in 0..<20 {
            try #require(cli.run(["append", "s-\(index % 3)", "--type", "T", "--data", #"{"n":\#(index)}"#]).status == 0)
        }
        #expect(try cli.run(["groups", "create", "g", "--all"]).status == 0)
        let backupPath = daemon.directory.appendingPathComponent("backup").path
        let backup = try cli.run(["backup", backupPath, "--json"])
        try #require(backup.status == 0, "\(backup.stderr)")
        #expect(try backup.json().first?["engine"] as? String == "sqlite")
        #expect(try backup.json().first?["position"] as? Int == 20)
        #expect(!FileManager.default.fileExists(atPath: backupPath + "/log"))
        #expect(try cli.run(["backup", "--verify", backupPath]).status == 0)

        let restored = try Daemon()
        let restore = try Self.logbookd(["restore", backupPath, "--data", restored.dataPath])
        try #require(restore.status == 0, "\(restore.stderr)")
        try restored.start()
        #expect(try await Self.readAll(restored.socketPath) == (try await Self.readAll(daemon.socketPath)))
        #expect(try CLI(socketPath: restored.socketPath).run(["groups", "info", "g"]).status == 0)
        // Still the SQLite engine: a log engine cannot open it.
        #expect(!FileManager.default.fileExists(atPath: restored.dataPath + "/log"))
    }

    /// Damage anywhere is found: a file's bytes (its CRC32C), a record whose file CRC was
    /// made to match (the record's own CRC), the database, a missing file or manifest.
    @Test(.enabled(if: !Daemon.onPostgres))
    func verifyFindsDamageAndRestoreRefusesIt() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        for index in 0..<50 {
            try #require(cli.run(["append", "s-\(index % 5)", "--type", "T", "--data", #"{"n":\#(index)}"#]).status == 0)
        }
        let good = daemon.directory.appendingPathComponent("good").path
        try #require(cli.run(["backup", good]).status == 0)
        #expect(try cli.run(["backup", "--verify", good]).status == 0)

        let segment = "log/00000000000000000001.seg"
        let cases: [(what: String, damage: (String) throws -> Void, says: String)] = [
            ("a flipped byte in a segment", { try Self.flipByte(in: $0 + "/" + segment, at: 5000) }, "CRC32C"),
            ("a flipped byte in a record, the manifest's CRC32C made to match", { directory in
                try Self.flipByte(in: directory + "/" + segment, at: 4096 + 40)
                try Self.refreshChecksums(directory)
            }, "checksum"),
            ("a truncated database", { try Self.truncate(directory: $0, file: "logbook.sqlite", to: 8192) }, "logbook.sqlite"),
            ("a missing segment", { try FileManager.default.removeItem(atPath: $0 + "/" + segment) }, "missing"),
            ("no manifest", { try FileManager.default.removeItem(atPath: $0 + "/manifest.json") }, "not a whole backup"),
        ]
        for (index, test) in cases.enumerated() {
            let damaged = daemon.directory.appendingPathComponent("damaged-\(index)").path
            try FileManager.default.copyItem(atPath: good, toPath: damaged)
            try test.damage(damaged)
            let verify = try cli.run(["backup", "--verify", damaged])
            #expect(verify.status != 0, "\(test.what)")
            #expect(verify.stderr.contains(test.says), "\(test.what): \(verify.stderr)")
            let target = daemon.directory.appendingPathComponent("restored-\(index)").path
            let restore = try Self.logbookd(["restore", damaged, "--data", target])
            #expect(restore.status == 1, "\(test.what)")
            #expect(!FileManager.default.fileExists(atPath: target), "\(test.what): a refused restore writes nothing")
        }
        // Damage to a record is DATA_LOSS (15).
        let flipped = daemon.directory.appendingPathComponent("damaged-0").path
        #expect(try cli.run(["backup", "--verify", flipped]).status == 15)
    }

    @Test(.enabled(if: !Daemon.onPostgres))
    func aBackupOrARestoreGoesOnlyIntoANewOrEmptyDirectory() throws {
        let daemon = try Daemon()
        try daemon.start()
        let cli = CLI(socketPath: daemon.socketPath)
        try #require(cli.run(["append", "s-1", "--type", "T", "--data", "{}"]).status == 0)
        let occupied = daemon.directory.appendingPathComponent("occupied").path
        try FileManager.default.createDirectory(atPath: occupied, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: occupied + "/keep.txt"))

        let refused = try cli.run(["backup", occupied])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied) == ["keep.txt"])

        let empty = daemon.directory.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try #require(cli.run(["backup", empty]).status == 0)
        let restore = try Self.logbookd(["restore", empty, "--data", occupied])
        #expect(restore.status == 1)
        #expect(restore.stderr.contains("not empty"), "\(restore.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied) == ["keep.txt"])
        // An empty directory (a fresh mount, say) takes a restore.
        let emptyTarget = daemon.directory.appendingPathComponent("empty-target").path
        try FileManager.default.createDirectory(atPath: emptyTarget, withIntermediateDirectories: true)
        #expect(try Self.logbookd(["restore", empty, "--data", emptyTarget]).status == 0)
        // With no daemon to ask, nothing is written.
        let unreached = daemon.directory.appendingPathComponent("unreached").path
        #expect(try CLI(socketPath: daemon.directory.appendingPathComponent("none.sock").path).run(["backup", unreached]).status == 14)
        #expect(!FileManager.default.fileExists(atPath: unreached))
    }

    @Test(.enabled(if: Daemon.onPostgres))
    func aPostgreSQLStoreAnswersUnimplemented() throws {
        let daemon = try Daemon()
        try daemon.start()
        let target = daemon.directory.appendingPathComponent("backup").path
        let backup = try CLI(socketPath: daemon.socketPath).run(["backup", target])
        #expect(backup.status == 12)
        #expect(backup.stderr.contains("UNIMPLEMENTED"))
        #expect(backup.stderr.contains("pg_dump"))
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    private static func flipByte(in path: String, at offset: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let byte = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: Data([byte ^ 0x40]))
    }

    private static func truncate(directory: String, file: String, to size: UInt64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: directory + "/" + file))
        defer { try? handle.close() }
        try handle.truncate(atOffset: size)
        try refreshChecksums(directory)
    }

    /// Rewrites the manifest's sizes and CRC32Cs to match the files as they are now, as a
    /// damaged backup whose manifest was made after the damage would have them.
    private static func refreshChecksums(_ directory: String) throws {
        let url = URL(fileURLWithPath: directory + "/manifest.json")
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var files = try #require(manifest["files"] as? [[String: Any]])
        for index in files.indices {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + (files[index]["path"] as! String)))
            files[index]["bytes"] = bytes.count
            files[index]["crc32c"] = Int(CRC32CForTests.checksum([UInt8](bytes)))
        }
        manifest["files"] = files
        try JSONSerialization.data(withJSONObject: manifest).write(to: url)
    }
}

/// Set once, read from any task.
final class StopFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { self.value.load(ordering: .relaxed) }
    func set() { self.value.store(true, ordering: .relaxed) }
}

/// CRC32C (Castagnoli) bit by bit: slow, plain, and independent of the code under test.
enum CRC32CForTests {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
            }
        }
        return ~crc
    }
}
