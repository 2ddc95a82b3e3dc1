internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// A full disk (issue 11, fault 5; issue 14 for the SQLite engine): the data directory
    /// on a 2 MiB tmpfs. An append that finds no room fails with RESOURCE_EXHAUSTED (not
    /// UNAVAILABLE: a full disk is not a fail-stop): in the log engine, with segments of
    /// 256 KiB, one that needs a new segment, and then what no longer fits the preallocated
    /// active one; in the SQLite engine, one whose write-ahead log cannot grow. Reads go on;
    /// and once the tmpfs is made larger the appends resume from the same head. Needs root,
    /// to mount.
    @Suite("A full disk, in each engine", .serialized)
    struct FullDiskTests {
        static let engines = [
            ["--engine", "log", "--log-segment-bytes", "262144"],
            ["--engine", "sqlite"],
        ]

        @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"), arguments: Self.engines)
        func aFullDiskRefusesAppendsUntilThereIsRoomAgain(_ arguments: [String]) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                try FileManager.default.createDirectory(atPath: daemon.dataPath, withIntermediateDirectories: true)
                try Self.mount(["-t", "tmpfs", "-o", "size=2m,mode=700", "tmpfs", daemon.dataPath])
                defer {
                    // The daemon first (a busy tmpfs does not unmount), then the mount, always.
                    daemon.stop(signal: SIGKILL)
                    do {
                        try Self.mount(["-u", daemon.dataPath])
                    } catch {
                        Issue.record("cannot unmount \(daemon.dataPath): \(error)")
                    }
                }
                try daemon.start(arguments)
                let client = try RawClient.connected(daemon)

                // Fill: 2 KiB events, 10 to an append, until the disk is full (2 MiB holds fewer
                // than 1,000 of them, so 200 appends always get there).
                let data = #"{"pad":""# + String(repeating: "f", count: 2_000) + #""}"#
                var acknowledged: [UInt64] = []
                var refusal: Status?
                func tenEvents(_ index: Int = 0) -> AppendRequest {
                    let events = (0..<10).map { _ in ProposedEvent(type: "Filling", data: Array(data.utf8), contentType: "application/json") }
                    return AppendRequest(streams: [StreamAppend(stream: "full-\(index % 4)", events: events)])
                }
                for index in 0..<200 where refusal == nil {
                    let (reply, status) = try client.append(tenEvents(index), callID: UInt64(index + 1))
                    if let reply {
                        acknowledged += reply.streams[0].positions
                    } else {
                        refusal = status
                    }
                }
                let full = try #require(refusal, "the disk never filled")
                #expect(full.code == .resourceExhausted, "a full disk is RESOURCE_EXHAUSTED: \(full.summary)")
                try #require(!acknowledged.isEmpty)
                #expect(acknowledged == Array(1...UInt64(acknowledged.count)))

                // The same append again: refused the same way (a full disk is not a fail-stop).
                let (again, againStatus) = try client.append(tenEvents(), callID: 1_000)
                #expect(again == nil && againStatus.code == .resourceExhausted, "\(againStatus.summary)")

                // What still fits is written (the active segment is preallocated); then nothing is.
                var singleRefusal: Status?
                for index in 0..<200 where singleRefusal == nil {
                    let (reply, status) = try client.append(.single("full-single", data: data), callID: UInt64(1_001 + index))
                    if let reply {
                        acknowledged += reply.streams[0].positions
                    } else {
                        singleRefusal = status
                    }
                }
                let stillFull = try #require(singleRefusal, "single events never filled the last segment")
                #expect(stillFull.code == .resourceExhausted, "\(stillFull.summary)")
                #expect(acknowledged == Array(1...UInt64(acknowledged.count)))

                // Reads go on.
                let (all, readStatus) = try client.readEvents(.all(Empty()), callID: 1_500)
                #expect(readStatus.code == .ok, "\(readStatus.summary)")
                #expect(all.map(\.position) == acknowledged, "reads show every acknowledged event and nothing else")
                let (stream, _) = try client.readEvents(.stream("full-1"), callID: 1_501)
                #expect(stream == all.filter { $0.stream == "full-1" })

                // A kill on the full disk, and a start on it: every acknowledged event is there
                // (some only in the log: the indexer may have found no room for them), and
                // appends are still refused the same way.
                daemon.stop(signal: SIGKILL)
                try daemon.start(arguments)
                let restarted = try RawClient.connected(daemon)
                let (afterKill, afterKillStatus) = try restarted.readEvents(.all(Empty()))
                #expect(afterKillStatus.code == .ok, "\(afterKillStatus.summary)")
                #expect(afterKill == all)
                let (refused, refusedStatus) = try restarted.append(tenEvents(), callID: 2)
                #expect(refused == nil && refusedStatus.code == .resourceExhausted, "\(refusedStatus.summary)")

                // Room again: appends resume where the log stopped.
                try Self.mount(["-o", "remount,size=64m", daemon.dataPath])
                let resumed = eventuallyBlocking(seconds: 10) {
                    (try? restarted.append(.single("full-0", data: #"{"resumed":true}"#), callID: 2_000).reply) != nil
                }
                #expect(resumed, "appends resume once there is room: \(daemon.log.suffix(3000))")
                let (after, _) = try restarted.readEvents(.all(Empty()), callID: 2_001)
                #expect(after.map(\.position) == Array(1...UInt64(acknowledged.count + 1)))
                #expect(after.last?.data == Array(#"{"resumed":true}"#.utf8))

                // And all of it survives another kill.
                daemon.stop(signal: SIGKILL)
                try daemon.start(arguments)
                let (final, _) = try RawClient.connected(daemon).readEvents(.all(Empty()))
                #expect(final == after)
            }
        }

        /// Runs mount(8), or umount(8) for `-u`.
        private static func mount(_ arguments: [String]) throws {
            let unmount = arguments.first == "-u"
            let command = unmount ? "umount" : "mount"
            let (status, message) = try SystemCommand.run(command, unmount ? Array(arguments.dropFirst()) : arguments)
            guard status == 0 else {
                throw Daemon.DaemonError(message: "\(command) \(arguments) failed: \(message)")
            }
        }
    }
}
