internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// A torn last record (issue 11, fault 2): the daemon is killed and bytes that were never
    /// acknowledged are left after the last record of the active segment, as a write cut
    /// short by the crash leaves them. The next start cuts them (zeros over them), keeps
    /// every acknowledged event, and appends go on from the same head.
    @Suite("Log engine: a torn last record", .serialized)
    struct TornTailTests {
        static let arguments = ["--engine", "log", "--log-segment-bytes", "65536"]

        /// What is left after the last record.
        enum Tear: String, CaseIterable, CustomTestStringConvertible {
            /// The first half of the next record (a copy of the last one at the next position,
            /// starting a sync group and ending its batch), cut at an unaligned byte.
            case halfRecord
            /// The whole next record, but its checksum does not match (damage inside the last
            /// group commit looks the same as a torn write of it).
            case wholeRecordBadChecksum
            /// A valid record at the next position that does not end its batch, then half of
            /// the batch's second record: the batch is kept or cut whole, so the valid record
            /// goes too.
            case batchCutAfterItsFirstRecord
            /// Random bytes.
            case garbage
            /// A header whose length reaches past the end of the segment.
            case lengthPastTheEnd

            var testDescription: String { self.rawValue }
        }

        @Test(arguments: Tear.allCases)
        func aTornTailIsCutAndAppendsGoOn(_ tear: Tear) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                try daemon.start(Self.arguments)
                let client = try RawClient.connected(daemon)
                for index in 0..<30 {
                    let events = (0...(index % 3)).map { event in
                        ProposedEvent(type: "Torn", data: Array(#"{"index":\#(index),"event":\#(event)}"#.utf8), contentType: "application/json")
                    }
                    let (reply, status) = try client.append(AppendRequest(streams: [StreamAppend(stream: "torn-\(index % 4)", events: events)]), callID: UInt64(index + 1))
                    try #require(reply != nil, "\(status.summary)")
                }
                let before = try client.readEvents(.all(Empty()), callID: 100).events
                try #require(before.count == 60)
                daemon.stop(signal: SIGKILL)

                let active = try SegmentFiles(dataPath: daemon.dataPath).active()
                let last = try #require(try SegmentFiles.records(active).last)
                try #require(last.position == 60)
                let end = last.offset + last.paddedLength
                let lastBytes = try SegmentFiles.read(active, at: last.offset, count: last.length)
                try #require(SegmentFiles.checksum(lastBytes) == SegmentFiles.load(UInt32.self, lastBytes, at: 4), "the test's CRC32C agrees with the log's")
                let torn = Self.bytes(for: tear, after: lastBytes)
                try #require(torn.contains { $0 != 0 })
                try SegmentFiles.write(torn, to: active, at: end)

                try daemon.start(Self.arguments)
                let reader = try RawClient.connected(daemon)
                let (after, status) = try reader.readEvents(.all(Empty()))
                #expect(status.code == .ok, "\(status.summary)")
                #expect(after == before, "every acknowledged event, and nothing of the torn tail")
                #expect(try SegmentFiles.read(active, at: end, count: torn.count).allSatisfy { $0 == 0 }, "the torn bytes are zeroed")

                for index in 0..<5 {
                    let (reply, status) = try reader.append(.single("torn-after", data: #"{"after":\#(index)}"#), callID: UInt64(index + 10))
                    #expect(reply?.streams.first?.positions == [UInt64(61 + index)], "\(status.summary)")
                }
                daemon.stop(signal: SIGKILL)
                try daemon.start(Self.arguments)
                let (again, _) = try RawClient.connected(daemon).readEvents(.all(Empty()))
                #expect(again.map(\.position) == Array(1...65))
                #expect(Array(again.prefix(60)) == before)
                #expect(again.suffix(5).map(\.stream) == Array(repeating: "torn-after", count: 5))
            }
        }

        /// The bytes a tear leaves after `last` (the last record, without padding).
        private static func bytes(for tear: Tear, after last: [UInt8]) -> [UInt8] {
            let position = SegmentFiles.load(UInt64.self, last, at: 8)
            var next = last
            SegmentFiles.store(position + 1, &next, at: 8)
            let length = UInt32(last.count)
            switch tear {
            case .halfRecord:
                SegmentFiles.store(length | SegmentFiles.syncStartFlag | SegmentFiles.batchEndFlag, &next, at: 0)
                SegmentFiles.store(SegmentFiles.checksum(next), &next, at: 4)
                return Array(next.prefix(next.count / 2 | 1))
            case .wholeRecordBadChecksum:
                SegmentFiles.store(length | SegmentFiles.syncStartFlag | SegmentFiles.batchEndFlag, &next, at: 0)
                SegmentFiles.store(SegmentFiles.checksum(next) ^ 0x0100_0000, &next, at: 4)
                return Self.padded(next)
            case .batchCutAfterItsFirstRecord:
                SegmentFiles.store(length | SegmentFiles.syncStartFlag, &next, at: 0)
                SegmentFiles.store(SegmentFiles.checksum(next), &next, at: 4)
                var second = last
                SegmentFiles.store(position + 2, &second, at: 8)
                SegmentFiles.store(length | SegmentFiles.batchEndFlag, &second, at: 0)
                SegmentFiles.store(SegmentFiles.checksum(second), &second, at: 4)
                return Self.padded(next) + second.prefix(second.count / 2)
            case .garbage:
                var random = SeededGenerator(seed: 0x70_12)
                return [0xA5] + (0..<299).map { _ in UInt8.random(in: 0...255, using: &random) }
            case .lengthPastTheEnd:
                var header = Array(last.prefix(16))
                SegmentFiles.store(SegmentFiles.lengthMask | SegmentFiles.syncStartFlag | SegmentFiles.batchEndFlag, &header, at: 0)
                SegmentFiles.store(position + 1, &header, at: 8)
                return header
            }
        }

        private static func padded(_ record: [UInt8]) -> [UInt8] {
            record + [UInt8](repeating: 0, count: (8 - record.count % 8) % 8)
        }
    }
}
