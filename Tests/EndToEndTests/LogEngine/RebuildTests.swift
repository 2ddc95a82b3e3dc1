internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// The log is the truth and everything beside it is derived (issue 11, point 3): a start
    /// with the SQLite files gone, index files of sealed segments damaged, missing or cut
    /// short, and a segment whose creation a crash interrupted (`.seg.tmp`), rebuilds it all
    /// from the segments and serves every event as before.
    @Suite("Log engine: a start rebuilds what is derived from the log", .serialized)
    struct RebuildTests {
        static let arguments = ["--engine", "log", "--log-segment-bytes", "16384"]

        @Test func indexesAndLeftoversOfARollAreRebuiltFromTheSegments() async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                try daemon.start(Self.arguments)
                let client = try RawClient.connected(daemon)
                for index in 0..<100 {
                    let events = (0..<4).map { event in
                        ProposedEvent(type: "Rebuilt", data: Array(#"{"index":\#(index),"event":\#(event),"pad":"\#(String(repeating: "r", count: index))"}"#.utf8), contentType: "application/json")
                    }
                    let (reply, status) = try client.append(AppendRequest(streams: [StreamAppend(stream: "rebuild-\(index % 7)", events: events)]), callID: UInt64(index + 1))
                    try #require(reply != nil, "\(status.summary)")
                }
                let (before, _) = try client.readEvents(.all(Empty()), callID: 1_000)
                try #require(before.count == 400)
                daemon.stop(signal: SIGKILL)

                let files = SegmentFiles(dataPath: daemon.dataPath)
                let segments = try files.segments()
                try #require(segments.count >= 5, "several segments: \(segments)")
                let indexes = segments.prefix(4).map { $0.dropLast(4) + ".idx" }.map(String.init)
                let originals = try indexes.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
                // A flipped byte in the first index file, the second gone, the third cut short.
                let first = try SegmentFiles.read(indexes[0], at: 20, count: 1)
                try SegmentFiles.write([first[0] ^ 0x10], to: indexes[0], at: 20)
                try FileManager.default.removeItem(atPath: indexes[1])
                let third = try Data(contentsOf: URL(fileURLWithPath: indexes[2]))
                try third.prefix(third.count / 2).write(to: URL(fileURLWithPath: indexes[2]))
                // The next segment, left under its temporary name by a crash in the roll.
                let leftover = files.directory + "/" + String(format: "%020d", 401) + ".seg.tmp"
                try Data((0..<16_384).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: leftover))
                try files.removeDatabase()

                try daemon.start(Self.arguments)
                let reader = try RawClient.connected(daemon)
                let (after, status) = try reader.readEvents(.all(Empty()))
                #expect(status.code == .ok, "\(status.summary)")
                #expect(after == before)
                for stream in 0..<7 {
                    let (events, _) = try reader.readEvents(.stream("rebuild-\(stream)"), callID: UInt64(10 + stream))
                    #expect(events == before.filter { $0.stream == "rebuild-\(stream)" })
                }
                let (category, _) = try reader.readEvents(.category("rebuild"), callID: 20)
                #expect(category.map(\.position) == Array(1...400))
                #expect(!FileManager.default.fileExists(atPath: leftover), "the unfinished segment is removed")
                #expect(try indexes.map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == originals, "the index files are written again as they were")

                let (reply, appendStatus) = try reader.append(.single("rebuild-0"), callID: 30)
                #expect(reply?.streams.first?.positions == [401], "\(appendStatus.summary)")
                #expect(reply?.streams.first?.firstRevision == UInt64(before.filter { $0.stream == "rebuild-0" }.count))
                daemon.stop(signal: SIGKILL)
                try daemon.start(Self.arguments)
                let (again, _) = try RawClient.connected(daemon).readEvents(.all(Empty()))
                #expect(again.count == 401 && Array(again.prefix(400)) == before)
            }
        }
    }
}
