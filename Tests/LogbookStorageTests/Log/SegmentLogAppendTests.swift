@testable internal import LogbookStorage
internal import Synchronization
internal import SystemPackage
internal import Testing

/// Appending: round trips across segment rolls, reopening, and the rules a batch must follow.
@Suite struct SegmentLogAppendTests {
    /// Records of many sizes across many small segments come back exactly, before and
    /// after a reopen, and every sealed segment has its index file.
    @Test(arguments: [SyncMode.full, .normal])
    func roundTripAcrossRolls(syncMode: SyncMode) throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024, syncMode: syncMode)
            let log = try fixture.open(configuration)
            #expect(log.headPosition == 0)
            #expect(try log.readAll().isEmpty)
            let head = try log.appendRecords(2_000, batchSize: 7)
            #expect(head == 2_000)
            #expect(log.sealedCount > 10, "small segments roll often")

            let records = try log.readAll()
            #expect(records.positions == Array(1...2_000))
            #expect(expectPayloads(records))
            try log.close()

            let segments = try fixture.fileNames().filter { $0.hasSuffix(".seg") }
            let indexes = try fixture.fileNames().filter { $0.hasSuffix(".idx") }
            #expect(segments.count == log.sealedCount + 1)
            #expect(indexes.count == log.sealedCount, "every sealed segment, and only those, has an index file")
            #expect(segments.first == fixture.segmentName(1))

            let reopened = try fixture.open(configuration, knownDurablePosition: 2_000)
            #expect(reopened.headPosition == 2_000)
            let again = try reopened.readAll()
            #expect(again.positions == Array(1...2_000))
            #expect(expectPayloads(again))
            try reopened.verify()
        }
    }

    /// Segment files are named by their first position, and each starts where the
    /// previous one ends.
    @Test func segmentsAreNamedByTheirFirstPosition() throws {
        try LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small(segmentBytes: 16 * 1024))
            try log.appendRecords(500, batchSize: 5, size: 200)
            let (sealed, active) = log.published.withLock { ($0.sealed, $0.active) }
            var next: UInt64 = 1
            for segment in sealed {
                #expect(segment.file.firstPosition == next)
                #expect(segment.file.path.lastComponent?.string == fixture.segmentName(next))
                next = segment.lastPosition + 1
            }
            #expect(active?.firstPosition == next)
        }
    }

    /// A reopened log goes on appending where it stopped, in the same active segment.
    @Test func appendsContinueAfterReopen() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small()
            do {
                let log = try fixture.open(configuration)
                try log.appendRecords(100)
                try log.close()
            }
            let log = try fixture.open(configuration, knownDurablePosition: 100)
            let before = log.writePoint
            #expect(try log.appendRecords(100) == 200)
            #expect(log.writePoint.segment == before.segment)
            #expect(log.writePoint.offset > before.offset)
            try log.close()

            let reopened = try fixture.open(configuration, knownDurablePosition: 200)
            #expect(try reopened.readAll().positions == Array(1...200))
        }
    }

    /// A batch is one `pwritev` and one `fdatasync` under `.full`; under `.normal` it
    /// syncs only when the reach would be passed.
    @Test func oneWriteAndOneSyncPerBatch() throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            let log = try fixture.open(try LogFixture.small(segmentBytes: 1024 * 1024), files: files)
            try log.appendRecords(1)  // creates the segment
            let (writes, syncs) = (files.writes, files.dataSyncs)
            var batch = try Payload.batch(from: 2, count: 500, size: 200)
            try log.append(&batch)
            #expect(files.writes == writes + 1)
            #expect(files.dataSyncs == syncs + 1)
            #expect(batch.isEmpty, "the batch is emptied for reuse")

            let normal = try LogFixture.small(segmentBytes: 1024 * 1024, syncReachBytes: 64 * 1024, syncMode: .normal)
            let files2 = FaultyFileOperations()
            try LogFixture.with { other in
                let log = try other.open(normal, files: files2)
                try log.appendRecords(1)
                let syncs = files2.dataSyncs
                try log.appendRecords(100, batchSize: 10, size: 200)  // ~22 KiB: within the reach
                #expect(files2.dataSyncs == syncs)
                try log.appendRecords(400, batchSize: 10, size: 200)  // ~90 KiB: past it
                #expect(files2.dataSyncs > syncs)
                try log.close()
            }
        }
    }

    /// Positions are the caller's, and must continue the head with no gap or repeat.
    @Test func positionsMustBeConsecutive() throws {
        try LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small())
            try log.appendRecords(10)

            var gap = try Payload.batch(from: 12, count: 3)
            #expect { try log.append(&gap) } throws: { ($0 as? StorageError)?.code == .invalidArgument }
            var repeat_ = try Payload.batch(from: 10, count: 3)
            #expect { try log.append(&repeat_) } throws: { ($0 as? StorageError)?.code == .invalidArgument }

            var inside = LogBatch()
            try inside.append(position: 11, payload: [1])
            #expect { try inside.append(position: 13, payload: [2]) } throws: {
                ($0 as? StorageError)?.code == .invalidArgument
            }
            #expect { try inside.append(position: 11, payload: [2]) } throws: {
                ($0 as? StorageError)?.code == .invalidArgument
            }
            #expect(log.headPosition == 10)
            #expect(try log.append(&inside) == 11)
        }
    }

    /// A record larger than a segment is refused before anything is written, and so is
    /// a batch larger than the sync reach; the log goes on.
    @Test func oversizedRecordsAndBatchesAreRefused() throws {
        try LogFixture.with { fixture in
            let configuration = try LogFixture.small(segmentBytes: 16 * 1024, syncReachBytes: 8 * 1024)
            let log = try fixture.open(configuration)
            try log.appendRecords(3)
            let point = log.writePoint

            var huge = LogBatch()
            try huge.append(position: 4, payload: [UInt8](repeating: 7, count: 20 * 1024))
            #expect { try log.append(&huge) } throws: { error in
                let error = error as? StorageError
                return error?.code == .invalidArgument && error?.message.contains("does not fit a segment") == true
            }
            var wide = try Payload.batch(from: 4, count: 40, size: 256)
            #expect { try log.append(&wide) } throws: { ($0 as? StorageError)?.code == .invalidArgument }

            #expect(log.writePoint == point, "nothing was written")
            #expect(try log.appendRecords(5) == 8)
            #expect(try log.readAll().positions == Array(1...8))
        }
    }

    /// An empty batch changes nothing.
    @Test func emptyBatchIsANoOp() throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            let log = try fixture.open(try LogFixture.small(), files: files)
            var empty = LogBatch()
            #expect(try log.append(&empty) == 0)
            #expect(files.writes == 0)
            #expect(try fixture.fileNames().isEmpty, "no segment is created before a record needs one")
        }
    }

    /// A payload can be encoded straight into the batch.
    @Test func payloadsCanBeWrittenInPlace() throws {
        try LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small())
            var batch = LogBatch()
            for position: UInt64 in 1...3 {
                let payload = Payload.of(position)
                try batch.append(position: position, payloadBytes: payload.count) { buffer in
                    buffer.copyBytes(from: payload)
                }
            }
            try log.append(&batch)
            let records = try log.readAll()
            #expect(records.positions == [1, 2, 3])
            #expect(expectPayloads(records))
        }
    }

    /// The configuration refuses sizes the formats cannot hold.
    @Test func configurationIsChecked() {
        #expect(throws: StorageError.self) { try LogConfiguration(segmentBytes: 1_000) }
        #expect(throws: StorageError.self) { try LogConfiguration(segmentBytes: LogLimits.segmentBytesMax * 2) }
        #expect(throws: StorageError.self) { try LogConfiguration(segmentBytes: 64 * 1024, syncReachBytes: 128 * 1024) }
        #expect(throws: StorageError.self) { try LogConfiguration(segmentBytes: 64 * 1024, syncReachBytes: 10) }
        #expect((try? LogConfiguration())?.syncReachBytes == LogLimits.syncReachBytesDefault)
        #expect((try? LogConfiguration(segmentBytes: 64 * 1024))?.syncReachBytes == 60 * 1024)
    }
}
