internal import Foundation
internal import Logbook
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// EIO at commit, injected by `FaultShim` under `LD_PRELOAD`: fail-stop. In the log
    /// engine from `fdatasync` or `pwritev` on a segment file, or from the `fsync` of a new
    /// one (issue 11, fault 4); in the SQLite engine from the sync or a write of SQLite's
    /// write-ahead log, where a commit goes (issue 14).
    ///
    /// The shim fails one call only and then lets every call through, so a writer that tried
    /// the sync or the write again would succeed and could acknowledge bytes the kernel may
    /// have dropped. The daemon must not: the append that met the error and every later one
    /// answer UNAVAILABLE with the reason, reads go on (showing nothing of the failed commit),
    /// and after a restart without the shim every acknowledged event is there.
    @Suite("EIO at commit, in each engine", .serialized)
    struct IOErrorTests {
        enum Fault: String, CaseIterable, CustomTestStringConvertible {
            /// The sync after a commit's write fails; the bytes may be in the page cache.
            case fdatasync
            /// The commit's write fails and writes nothing.
            case pwritev
            /// The commit's write fails after writing half of its bytes.
            case pwritevHalfWritten
            /// A roll fails: the fsync of the next segment, still under its temporary name.
            case fsyncOfANewSegment
            /// A roll fails earlier: reserving the next segment's space meets EIO.
            case fallocateOfANewSegment
            /// SQLite engine: the sync of the write-ahead log after a commit's frames.
            case sqliteWALSync
            /// SQLite engine: a write of a commit's frames to the write-ahead log.
            case sqliteWALWrite

            var arguments: [String] {
                switch self {
                case .sqliteWALSync, .sqliteWALWrite: ["--engine", "sqlite"]
                default: ["--engine", "log", "--log-segment-bytes", "65536"]
                }
            }

            var calls: [FaultShim.Call] {
                switch self {
                case .fdatasync: [.fdatasync]
                case .pwritev, .pwritevHalfWritten: [.pwritev]
                case .fsyncOfANewSegment: [.fsync]
                case .fallocateOfANewSegment: [.fallocate]
                case .sqliteWALSync: [.fdatasync, .fsync]
                case .sqliteWALWrite: [.pwrite]
                }
            }

            var suffix: String {
                switch self {
                case .fsyncOfANewSegment, .fallocateOfANewSegment: ".seg.tmp"
                case .sqliteWALSync, .sqliteWALWrite: "logbook.sqlite-wal"
                default: ".seg"
                }
            }

            /// What the refusal names: the file that failed.
            var file: String {
                switch self {
                case .sqliteWALSync, .sqliteWALWrite: "logbook.sqlite"
                default: ".seg"
                }
            }

            /// Whether the failed commit may yet be whole on disk (in the page cache when the
            /// sync failed): then a restart may find its events, never acknowledged.
            var commitMayBeOnDisk: Bool { self == .fdatasync || self == .sqliteWALSync }

            var testDescription: String { self.rawValue }
        }

        @Test(arguments: Fault.allCases)
        func anIOErrorStopsAppendsAndReadsGoOn(_ fault: Fault) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                let shim = try FaultShim.build(in: daemon.directory)
                let process = try DaemonProcess.start(
                    daemon, fault.arguments, environment: shim.environment(failing: fault.calls, on: fault.suffix, once: true, partial: fault == .pwritevHalfWritten))
                var configuration = LogbookClient.Configuration()
                configuration.retriesAppends = false  // an UNAVAILABLE answer is what this test looks at
                let client = try await LogbookClient.connect(socketPath: daemon.socketPath, configuration: configuration)

                var acknowledged: [String: [UInt64]] = [:]
                for index in 0..<20 {
                    let result = try await client.append(to: "eio-\(index % 3)", events: [EventData(type: "Before", json: #"{"i":\#(index)}"#)])
                    acknowledged["eio-\(index % 3)", default: []] += result.positions
                }
                try shim.arm()
                if fault == .fsyncOfANewSegment || fault == .fallocateOfANewSegment {
                    // Appends of 1 KiB go on until one needs the next segment (64 KiB): that one fails.
                    let padding = String(repeating: "n", count: 1_000)
                    var failed = false
                    for index in 0..<200 where !failed {
                        do {
                            let result = try await client.append(to: "eio-\(index % 3)", events: [EventData(type: "Before", json: #"{"pad":"\#(padding)"}"#)])
                            acknowledged["eio-\(index % 3)", default: []] += result.positions
                        } catch let error as LogbookError {
                            #expect(error.code == .unavailable && error.message.contains("I/O error") && error.message.contains(".seg.tmp"), "\(error)")
                            failed = true
                        }
                    }
                    try #require(failed, "no roll came")
                    let leftovers = try FileManager.default.contentsOfDirectory(atPath: daemon.dataPath + "/log").filter { $0.hasSuffix(".tmp") }
                    #expect(leftovers.isEmpty, "the segment that could not be created is removed")
                }
                let before = try await Self.events(client, .all)
                try #require(before.map(\.position) == Array(1...UInt64(acknowledged.values.map(\.count).reduce(0, +))))

                // The fault: the next commit meets EIO (the roll's has already), and ten appends
                // race for it and after it.
                let answers = await withTaskGroup(of: Result<AppendResult, any Error>.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            do {
                                return .success(try await client.append(to: "eio-\(index % 4)", events: [EventData(type: "During", json: #"{"i":\#(index)}"#)]))
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                #expect(!shim.isArmed, "the shim failed a \(fault.calls) call on a segment file")
                for answer in answers {
                    switch answer {
                    case .success(let result):
                        Issue.record("an append after the I/O error was acknowledged at \(result.positions)")
                    case .failure(let error as LogbookError):
                        #expect(error.code == .unavailable, "\(error)")
                        #expect(error.message.contains("I/O error"), "the answer gives the reason: \(error.message)")
                    case .failure(let error):
                        Issue.record("not a LogbookError: \(error)")
                    }
                }

                // Fail-stop: the shim lets every call through now, and appends are still refused.
                // The CLI sends an append that UNAVAILABLE answered again until its reconnect wait
                // (30 s) runs out, then exits 14 with the reason: once, in the background.
                let socketPath = daemon.socketPath
                let cliAppend = fault == .fdatasync
                    ? BlockingExecutor.task { try CLI(socketPath: socketPath).run(["append", "eio-cli", "--type", "After", "--data", "{}"]) } : nil
                let raw = try RawClient.connected(daemon)
                for (number, stream) in ["eio-0", "eio-new"].enumerated() {
                    let (reply, status) = try raw.append(.single(stream), callID: UInt64(number + 1))
                    #expect(reply == nil && status.code == .unavailable, "\(status.summary)")
                    #expect(status.message.contains("I/O error") && status.message.contains(fault.file), "the reason names the error and the file: \(status.message)")
                }
                await #expect(throws: LogbookError.self) {
                    _ = try await client.append(to: "eio-1", events: [EventData(type: "After", json: "{}")])
                }

                // Reads go on, and show exactly what was acknowledged.
                #expect(try await Self.events(client, .all) == before)
                #expect(try await Self.events(client, .stream("eio-1")).map(\.position) == acknowledged["eio-1"])
                let (rawAll, rawStatus) = try raw.readEvents(.all(Empty()), callID: 10)
                #expect(rawStatus.code == .ok && rawAll.count == before.count, "\(rawStatus.summary)")
                let cli = try CLI(socketPath: daemon.socketPath).run(["read", "eio-2", "--json"])
                #expect(cli.status == 0 && cli.lines.count == acknowledged["eio-2"]?.count, "\(cli.stderr)")
                if let cliAppend {
                    let result = try await cliAppend.value
                    #expect(result.status == 14, "UNAVAILABLE: \(result.stderr)")
                    #expect(result.stderr.contains("I/O error"), "\(result.stderr)")
                }
                #expect(process.process.isRunning, "the daemon keeps serving reads: \(process.log)")
                await client.close()

                // A graceful shutdown still ends (the writer has stopped; nothing is left to sync).
                let status = process.terminate(within: 60)
                #expect(status != nil, "logbookd hung on SIGTERM after the fail-stop: \(process.log.suffix(2_000))")

                // Restart without the shim: every acknowledged event is on disk.
                try daemon.start(fault.arguments)
                let restarted = try await LogbookClient.connect(socketPath: daemon.socketPath, configuration: configuration)
                let after = try await Self.events(restarted, .all)
                #expect(Array(after.prefix(before.count)) == before, "every acknowledged event, as it was")
                #expect(after.map(\.position) == Array(1...UInt64(after.count)))
                let unacknowledged = after.dropFirst(before.count)
                // A failed sync may leave whole batches in the page cache (the appends were not
                // acknowledged, and may or may not be there); a failed write leaves none whole.
                #expect(unacknowledged.allSatisfy { $0.type == "During" })
                if !fault.commitMayBeOnDisk {
                    #expect(unacknowledged.isEmpty, "nothing of a failed write survives: \(unacknowledged.map(\.position))")
                }
                let next = try await restarted.append(to: "eio-0", events: [EventData(type: "Later", json: "{}")])
                #expect(next.positions == [UInt64(after.count + 1)])
                await restarted.close()
            }
        }

        private static func events(_ client: LogbookClient, _ selector: ReadSelector) async throws -> [Logbook.RecordedEvent] {
            var events: [Logbook.RecordedEvent] = []
            for try await event in client.read(selector) { events.append(event) }
            return events
        }
    }
}
