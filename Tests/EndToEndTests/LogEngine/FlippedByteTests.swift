internal import Foundation
internal import LogbookWire
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

extension LogEngineFaultTests {
    /// A flipped byte mid-log (issue 11, fault 3): a record well before the tail is damaged
    /// while the daemon is down. Bytes that later group commits were synced after cannot be
    /// a torn write, so the start is refused (exit status 1, DATA_LOSS) with a message that
    /// names the segment file and the damaged record's byte offset, and every file of the
    /// log is left as it was: never cut, never skipped.
    @Suite("Log engine: a flipped byte mid-log", .serialized)
    struct FlippedByteTests {
        static let arguments = ["--engine", "log", "--log-segment-bytes", "65536"]

        /// The record field the flipped byte is in.
        enum Field: String, CaseIterable, CustomTestStringConvertible {
            case lengthWord, checksum, position, payload

            var offset: Int {
                switch self {
                case .lengthWord: 1
                case .checksum: 5
                case .position: 8
                case .payload: 40
                }
            }

            var testDescription: String { self.rawValue }
        }

        /// A log of several segments: 1,000 events in appends of 20 (about four segments of
        /// 64 KiB), then 60 appends of one event, each its own group commit, in the active one.
        /// Returns every event, as read back before the kill.
        @discardableResult
        private func fill(_ daemon: Daemon) throws -> [RecordedEvent] {
            try daemon.start(Self.arguments)
            let client = try RawClient.connected(daemon)
            let padding = String(repeating: "p", count: 200)
            for index in 0..<50 {
                let events = (0..<20).map { event in
                    ProposedEvent(type: "Flipped", data: Array(#"{"index":\#(index),"event":\#(event),"pad":"\#(padding)"}"#.utf8), contentType: "application/json")
                }
                let (reply, status) = try client.append(AppendRequest(streams: [StreamAppend(stream: "flip-\(index % 5)", events: events)]), callID: UInt64(index + 1))
                try #require(reply != nil, "\(status.summary)")
            }
            for index in 0..<60 {
                let (reply, status) = try client.append(.single("flip-single", data: #"{"single":\#(index)}"#), callID: UInt64(index + 100))
                try #require(reply != nil, "\(status.summary)")
            }
            let (events, status) = try client.readEvents(.all(Empty()), callID: 1_000)
            try #require(status.code == .ok && events.count == 1_060, "\(status.summary)")
            daemon.stop(signal: SIGKILL)
            return events
        }

        /// Flips one bit of `record`'s `field` in `segment`; returns the log folder as it is
        /// afterwards.
        private func flip(_ field: Field, of record: SegmentFiles.Record, in segment: String, _ files: SegmentFiles) throws -> [String: Data] {
            let offset = record.offset + field.offset
            let byte = try SegmentFiles.read(segment, at: offset, count: 1)
            try SegmentFiles.write([byte[0] ^ 0x01], to: segment, at: offset)
            return try files.snapshot()
        }

        @Test(arguments: Field.allCases)
        func aFlippedByteInTheActiveSegmentRefusesTheStart(_ field: Field) async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                try self.fill(daemon)
                let files = SegmentFiles(dataPath: daemon.dataPath)
                try #require(try files.segments().count >= 3, "the log should span several segments")
                let active = try files.active()
                let records = try SegmentFiles.records(active)
                try #require(records.count >= 60)
                // A third of the way in: dozens of later group commits follow it.
                let record = records[records.count / 3]
                let damaged = try self.flip(field, of: record, in: active, files)

                let (status, output) = try DaemonProcess.refusal(daemon, Self.arguments)
                #expect(status == 1, "\(output)")
                #expect(output.contains(active), "the refusal names the segment: \(output)")
                #expect(output.contains("byte offset \(record.offset)"), "the refusal names the record's offset \(record.offset): \(output)")
                #expect(try files.snapshot() == damaged, "the log is left as it was")
                #expect(!RawClient.canConnect(daemon.socketPath))
            }
        }

        /// The same in a sealed segment. A start reads only the sealed segments' index files
        /// (it costs what the indexes lack, not the log's size), so logbookd starts; it
        /// checks the sealed segments behind the start, and the damage stops its writer:
        /// appends answer UNAVAILABLE naming the segment and the offset; reads of what is
        /// not damaged go on, a read of the damaged record answers DATA_LOSS.
        @Test func aFlippedByteInASealedSegmentStopsTheWriter() async throws {
            try await BlockingExecutor.run {
                let daemon = try Daemon()
                let before = try self.fill(daemon)
                let files = SegmentFiles(dataPath: daemon.dataPath)
                let segments = try files.segments()
                try #require(segments.count >= 3)
                let sealed = segments[1]
                let records = try SegmentFiles.records(sealed)
                let record = records[records.count / 2]
                let damaged = try self.flip(.payload, of: record, in: sealed, files)

                switch try DaemonProcess.startOrRefusal(daemon, Self.arguments) {
                case .refused(let status, let output):
                    Issue.record("a start with a damaged sealed segment is refused only when it must rebuild the indexes: \(status) \(output)")
                case .started(let process):
                    #expect(eventuallyBlocking { process.log.contains("log verification failed") }, "\(process.log)")
                    let client = try RawClient.connected(daemon)
                    let (reply, status) = try client.append(.single("after-damage-1"), callID: 2)
                    #expect(reply == nil)
                    #expect(status.code == .unavailable, "\(status.summary)")
                    #expect(status.message.contains(sealed), "the refusal names the segment: \(status.summary)")
                    #expect(status.message.contains("byte offset \(record.offset)"), "the refusal names the offset \(record.offset): \(status.summary)")
                    // Reads take the events from the log: one that reaches the damaged record
                    // answers DATA_LOSS naming it, never the bytes; one that does not is served.
                    let (_, damagedRead) = try client.readEvents(.all(Empty()), callID: 3)
                    #expect(damagedRead.code == .dataLoss, "\(damagedRead.summary)")
                    #expect(damagedRead.message.contains(sealed), "the read names the segment: \(damagedRead.summary)")
                    #expect(damagedRead.message.contains("byte offset \(record.offset)"), "\(damagedRead.summary)")
                    let (later, laterStatus) = try client.readEvents(
                        .all(Empty()), from: .position(record.position + 1), callID: 4)
                    #expect(laterStatus.code == .ok, "\(laterStatus.summary)")
                    #expect(later == before.filter { $0.position > record.position })
                    process.stop(signal: SIGKILL)
                }
                #expect(try files.snapshot() == damaged, "the log is left as it was")

                // Rebuilding the indexes reads the log: the damage is found there, never skipped.
                try files.removeDatabase()
                let (status, output) = try DaemonProcess.refusal(daemon, Self.arguments)
                #expect(status == 1, "\(output)")
                #expect(output.contains(sealed), "the refusal names the segment: \(output)")
                #expect(output.contains("byte offset \(record.offset)"), "the refusal names the record's offset \(record.offset): \(output)")
                #expect(try files.snapshot() == damaged, "the log is left as it was")
            }
        }
    }
}
