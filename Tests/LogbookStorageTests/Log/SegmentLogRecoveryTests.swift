internal import Foundation
@testable internal import LogbookStorage
internal import Testing

/// Recovery on open: a torn tail is cut and the log goes on; damage that cannot be a
/// torn write refuses the open, naming the file and the byte offset.
@Suite struct SegmentLogRecoveryTests {
    /// Shapes a crash can leave after the last acknowledged batch, written at the point
    /// where the next batch would go.
    enum TornShape: String, CaseIterable, CustomStringConvertible {
        case halfAHeader
        case halfAPayload
        case firstRecordsOfABatch
        case batchWithoutItsStart
        case garbageWithinOneBatch

        var description: String { rawValue }

        /// The bytes, and where they go relative to the write point.
        func bytes(after head: UInt64) throws -> (bytes: [UInt8], at: Int64) {
            switch self {
            case .halfAHeader:
                return (Array(try Payload.framed(from: head + 1, count: 3).prefix(8)), 0)
            case .halfAPayload:
                return (Array(try Payload.framed(from: head + 1, count: 1, size: 300).prefix(16 + 150)), 0)
            case .firstRecordsOfABatch:
                // Three whole, valid records of a batch of five: never acknowledged.
                let framed = try Payload.framed(from: head + 1, count: 5, size: 100)
                return (Array(framed.prefix(3 * 120)), 0)
            case .batchWithoutItsStart:
                // The later pages of a batch reached the disk, its first did not.
                let framed = try Payload.framed(from: head + 1, count: 40, size: 200)
                return (Array(framed.dropFirst(2_000)), 2_000)
            case .garbageWithinOneBatch:
                var generator = SystemRandomNumberGenerator()
                return ((0..<500).map { _ in UInt8.random(in: 1...255, using: &generator) }, 1_000)
            }
        }
    }

    @Test(arguments: TornShape.allCases)
    func tornTailIsCutAndTheLogGoesOn(shape: TornShape) throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            let point = try fixture.writeLog(configuration, records: 50, batchSize: 5)
            let torn = try shape.bytes(after: 50)
            try fixture.write(torn.bytes, to: point.segment, at: point.offset + torn.at)

            let log = try fixture.open(configuration, knownDurablePosition: 50)
            #expect(log.headPosition == 50)
            #expect(log.writePoint.offset == point.offset)
            let after = try fixture.bytes(of: point.segment)[Int(point.offset)...]
            #expect(after.allSatisfy { $0 == 0 }, "the torn bytes are zeros now")

            #expect(try log.appendRecords(30, batchSize: 4) == 80)
            try log.close()
            let reopened = try fixture.open(configuration, knownDurablePosition: 80)
            let records = try reopened.readAll()
            #expect(records.positions == Array(1...80))
            #expect(expectPayloads(records))
            try reopened.verify()
        }
    }

    /// A whole batch whose sync never finished is whole on disk: it stays (it may have
    /// been acknowledged, and it is valid).
    @Test func aWholeBatchIsKept() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            let point = try fixture.writeLog(configuration, records: 20)
            try fixture.write(try Payload.framed(from: 21, count: 7), to: point.segment, at: point.offset)
            let log = try fixture.open(configuration, knownDurablePosition: 20)
            #expect(log.headPosition == 27)
            #expect(try log.readAll().positions == Array(1...27))
        }
    }

    /// A flipped byte in a batch that a later group commit follows: the later batch's
    /// "sync start" record proves the damaged one had been synced.
    @Test func flippedByteMidLogRefusesTheOpen() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 1024 * 1024)
            try fixture.writeLog(configuration, records: 150, batchSize: 5, size: 200)
            let segment = fixture.segmentName(1)
            let damaged = try fixture.offset(of: 52, in: segment)
            try fixture.flipByte(in: segment, at: damaged + 100)
            let error = storageError { try fixture.open(configuration) }
            #expect(names(error, corrupt: fixture.path(segment), offset: damaged), "\(String(describing: error))")
            #expect(error?.message.contains("later group commit") == true)
            // Refused again, and nothing was cut by the refused open.
            #expect(names(storageError { try fixture.open(configuration) }, corrupt: fixture.path(segment), offset: damaged))
        }
    }

    /// Valid records further than one group commit writes past a damaged one refuse the
    /// open, even without a "sync start" flag among them; within that reach, they are
    /// the torn remains of the last batch and are cut.
    @Test(arguments: [true, false])
    func validRecordsBeyondTheReachRefuseTheOpen(beyondReach: Bool) throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 256 * 1024, syncReachBytes: 4 * 1024)
            let point = try fixture.writeLog(configuration, records: 1)
            // 24 records of 216 bytes, none flagged as starting a sync group: 5 KiB, past
            // the 4 KiB reach. The damage is in the first record, or in the sixth from
            // the end (within the reach of the last record).
            let framed = try Payload.framed(from: 2, count: 24, size: 200, startsSyncGroup: false)
            try fixture.write(framed, to: point.segment, at: point.offset)
            let damaged = point.offset + Int64(beyondReach ? 0 : 18 * 216)
            try fixture.flipByte(in: point.segment, at: damaged + 40)
            if beyondReach {
                let error = storageError { try fixture.open(configuration) }
                #expect(names(error, corrupt: fixture.path(point.segment), offset: damaged), "\(String(describing: error))")
                #expect(error?.message.contains("further than one group commit") == true)
            } else {
                // The whole unflagged run is one batch (one "batch end", at its last
                // record), so it is cut whole back to position 1.
                let log = try fixture.open(configuration)
                #expect(log.headPosition == 1)
            }
        }
    }

    /// Damage inside the last group commit looks like a torn write: it is cut unless
    /// `knownDurablePosition` says the batch was acknowledged, and then refused.
    @Test func damageInTheLastBatchIsCutOnlyWhenNotKnownDurable() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 1024 * 1024)
            try fixture.writeLog(configuration, records: 50, batchSize: 5, size: 200)
            let segment = fixture.segmentName(1)
            let damaged = try fixture.offset(of: 48, in: segment)
            try fixture.flipByte(in: segment, at: damaged + 30)

            for known: UInt64 in [48, 50] {
                let error = storageError { try fixture.open(configuration, knownDurablePosition: known) }
                #expect(names(error, corrupt: fixture.path(segment), offset: damaged), "\(String(describing: error))")
                #expect(error?.message.contains("acknowledged as durable") == true)
            }
            let log = try fixture.open(configuration, knownDurablePosition: 45)
            #expect(log.headPosition == 45, "the last batch (46...50) is cut whole")
            #expect(try log.appendRecords(5) == 50)
        }
    }

    /// A log that ends cleanly before `knownDurablePosition` lost acknowledged records.
    @Test func missingAcknowledgedRecordsRefuseTheOpen() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            try fixture.writeLog(configuration, records: 30)
            let error = storageError { try fixture.open(configuration, knownDurablePosition: 31) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("31") == true)

            try LogFixture.with { empty in
                let error = storageError { try empty.open(configuration, knownDurablePosition: 1) }
                #expect(error?.code == .corrupt, "an empty log cannot hold an acknowledged position")
            }
        }
    }

    /// A valid record in the wrong position is never a torn write.
    @Test(arguments: [UInt64(2), 0])
    func gapOrRepeatRefusesTheOpen(shift: UInt64) throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            let point = try fixture.writeLog(configuration, records: 20)
            // Positions 22... (a gap) or 20... (a repeat) where 21 belongs.
            try fixture.write(try Payload.framed(from: 20 + shift, count: 3), to: point.segment, at: point.offset)
            let error = storageError { try fixture.open(configuration) }
            #expect(names(error, corrupt: fixture.path(point.segment), offset: point.offset), "\(String(describing: error))")
            #expect(error?.message.contains("a gap or a repeat") == true)
        }
    }

    /// A flipped byte in a sealed segment is damage: reads of it fail and `verify`
    /// finds it; with its index file gone, the rebuild scan refuses the open.
    @Test func flippedByteInASealedSegment() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024)
            #expect(try fixture.writeLog(configuration, records: 400, batchSize: 8, size: 100).sealed >= 2)
            let segment = fixture.segmentName(1)
            let damaged = try fixture.offset(of: 30, in: segment)
            try fixture.flipByte(in: segment, at: damaged + 20)

            let log = try fixture.open(configuration, knownDurablePosition: 400)
            #expect(log.headPosition == 400, "the open reads the index file, not the sealed segment")
            let readError = storageError { try log.read(from: 25, direction: .forwards, countMax: 10, bytesMax: .max) }
            #expect(names(readError, corrupt: fixture.path(segment), offset: damaged), "\(String(describing: readError))")
            #expect(names(storageError { try log.verify() }, corrupt: fixture.path(segment), offset: damaged))
            #expect(try log.read(from: 31, direction: .forwards, countMax: 10, bytesMax: .max).count == 10)

            try fixture.remove(fixture.indexName(1))
            let openError = storageError { try fixture.open(configuration, knownDurablePosition: 400) }
            #expect(names(openError, corrupt: fixture.path(segment), offset: damaged), "\(String(describing: openError))")
            #expect(openError?.message.contains("sealed segment") == true)
        }
    }

    /// Index files are derived: a damaged or missing one is rebuilt from its segment,
    /// and the rebuilt file is the one the writer wrote.
    @Test func damagedOrMissingIndexFilesAreRebuilt() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024)
            #expect(try fixture.writeLog(configuration, records: 600, batchSize: 6).sealed >= 3)
            let indexes = try fixture.fileNames().filter { $0.hasSuffix(".idx") }
            let originals = try indexes.map { try fixture.bytes(of: $0) }
            try fixture.flipByte(in: indexes[0], at: 60)
            try fixture.remove(indexes[1])
            // An index that is whole but belongs elsewhere: another segment's.
            try fixture.write(originals[0], to: indexes[2], at: 0)

            let log = try fixture.open(configuration, knownDurablePosition: 600)
            let records = try log.readAll()
            #expect(records.positions == Array(1...600))
            #expect(expectPayloads(records))
            #expect(try indexes.map { try fixture.bytes(of: $0) } == originals)
            try log.verify()
        }
    }

    /// A damaged segment header refuses the open at offset 0, sealed or active.
    @Test(arguments: [true, false])
    func damagedHeaderRefusesTheOpen(sealed: Bool) throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024)
            let active: String
            do {
                let log = try fixture.open(configuration)
                try log.appendRecords(200, batchSize: 5, size: 100)
                active = log.writePoint.segment
            }
            let segment = sealed ? fixture.segmentName(1) : active
            try fixture.flipByte(in: segment, at: 20)
            let error = storageError { try fixture.open(configuration) }
            #expect(names(error, corrupt: fixture.path(segment), offset: 0), "\(String(describing: error))")
        }
    }

    /// A segment from a newer format is refused as such, not as damage.
    @Test func newerFormatIsRefused() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            try fixture.writeLog(configuration, records: 3)
            let segment = fixture.segmentName(1)
            var header = Array(try fixture.bytes(of: segment).prefix(40))
            header[8] = SegmentHeader.version + 1
            let checksum = CRC32C.checksum(header)
            try fixture.write(header + withUnsafeBytes(of: checksum.littleEndian, Array.init), to: segment, at: 0)
            let error = storageError { try fixture.open(configuration) }
            #expect(error?.code == .unsupportedSchema)
            #expect(error?.message.contains("newer") == true)
        }
    }

    /// A missing segment in the middle leaves a gap between its neighbours.
    @Test func missingSegmentRefusesTheOpen() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024)
            #expect(try fixture.writeLog(configuration, records: 400, batchSize: 8, size: 100).sealed >= 3)
            let segments = try fixture.fileNames().filter { $0.hasSuffix(".seg") }
            try fixture.remove(segments[1])
            try fixture.remove(SegmentFile.name(firstPosition: SegmentFile.firstPosition(fromName: segments[1], suffix: "seg")!, suffix: "idx"))
            let error = storageError { try fixture.open(configuration) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains(fixture.path(segments[0])) == true, "\(String(describing: error))")
        }
    }

    /// A segment file shorter than its header says was cut by something other than the log.
    @Test func truncatedSegmentRefusesTheOpen() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            try fixture.writeLog(configuration, records: 3)
            let segment = fixture.segmentName(1)
            try FileHandle(forWritingTo: URL(fileURLWithPath: fixture.path(segment))).truncate(atOffset: 8_192)
            #expect(names(storageError { try fixture.open(configuration) }, corrupt: fixture.path(segment), offset: 8_192))
        }
    }

    /// What an interrupted roll leaves behind: a temporary segment that never held a
    /// record, and the index file of a segment that stayed active. Both go.
    @Test func leftoversOfAnInterruptedRollAreRemoved() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            try fixture.writeLog(configuration, records: 10)
            let leftover = fixture.segmentName(11) + ".tmp"
            #expect(FileManager.default.createFile(atPath: fixture.path(leftover), contents: Data([1, 2, 3])))
            #expect(FileManager.default.createFile(atPath: fixture.path(fixture.indexName(1)), contents: Data([4, 5, 6])))
            let log = try fixture.open(configuration, knownDurablePosition: 10)
            #expect(try fixture.fileNames() == [fixture.segmentName(1)])
            #expect(try log.appendRecords(5) == 15)
        }
    }
}
