@testable internal import LogbookStorage
internal import Synchronization
internal import SystemPackage
internal import Testing

/// I/O errors, injected through the file operations seam: a failed write or sync stops
/// the writer for good; a full disk fails only the appends that need a new segment.
@Suite struct SegmentLogFaultTests {
    enum Failing: String, CaseIterable, CustomStringConvertible {
        case write
        case dataSync
        var description: String { rawValue }
    }

    /// After a failed `pwritev` or `fdatasync`: that append and every later one fail
    /// with `.stopped` and the reason, the head does not move, no sync is retried, and
    /// reads go on.
    @Test(arguments: Failing.allCases)
    func ioErrorIsFailStop(failing: Failing) throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            let log = try fixture.open(try LogFixture.small(), files: files)
            try log.appendRecords(20)
            files.faults.withLock { faults in
                switch failing {
                case .write: faults.write = .ioError
                case .dataSync: faults.dataSync = .ioError
                }
            }
            var batch = try Payload.batch(from: 21, count: 5)
            let error = storageError { try log.append(&batch) }
            #expect(error?.code == .stopped)
            #expect(error?.message.contains("I/O error") == true, "\(String(describing: error))")
            #expect(log.headPosition == 20, "nothing unsynced is published")
            #expect(try log.read(from: 21, direction: .forwards, countMax: 10, bytesMax: .max).isEmpty)

            // The fault is gone, the writer stays stopped: a sync that failed once is
            // never retried into a success.
            files.faults.withLock { $0 = FaultyFileOperations.Faults(writes: $0.writes, dataSyncs: $0.dataSyncs) }
            let syncs = files.dataSyncs
            let again = storageError { try log.append(&batch) }
            #expect(again?.code == .stopped)
            #expect(again?.message == error?.message)
            try log.close()
            #expect(files.dataSyncs == syncs)

            let records = try log.readAll()
            #expect(records.positions == Array(1...20), "reads go on")
            #expect(expectPayloads(records))
        }
    }

    /// What a failed sync leaves on disk is the open's to judge: a whole batch written
    /// before the sync failed is valid, and a reopened log keeps it (the append was
    /// refused, not acknowledged; a caller treats `.stopped` as an unknown outcome).
    @Test func reopenAfterAFailedSync() throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            let configuration = try LogFixture.small()
            do {
                let log = try fixture.open(configuration, files: files)
                try log.appendRecords(20)
                files.faults.withLock { $0.dataSync = .ioError }
                var batch = try Payload.batch(from: 21, count: 5)
                #expect(storageError { try log.append(&batch) }?.code == .stopped)
            }
            let log = try fixture.open(configuration, knownDurablePosition: 20)
            #expect(log.headPosition == 25)
            #expect(try log.appendRecords(5) == 30)
        }
    }

    /// No space for a new segment: `.diskFull`, nothing written, no temporary file left,
    /// reads go on, and once space returns the next append creates the segment.
    @Test func diskFullWhenRollingIsRetried() throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            let log = try fixture.open(try LogFixture.small(segmentBytes: 16 * 1024), files: files)
            try log.appendRecords(60, batchSize: 6, size: 200)
            let sealed = log.sealedCount
            files.faults.withLock { $0.allocate = .noSpace }

            var failures = 0
            var head = log.headPosition
            while failures == 0 {
                var batch = try Payload.batch(from: head + 1, count: 6, size: 200)
                do throws(StorageError) {
                    head = try log.append(&batch)
                } catch {
                    #expect(error.code == .diskFull, "\(error)")
                    #expect(error.message.contains("nothing of the batch was written"))
                    failures += 1
                }
            }
            #expect(try fixture.fileNames().allSatisfy { !$0.hasSuffix(".tmp") })
            #expect(log.headPosition == head)
            #expect(try log.readAll().positions == Array(1...head), "reads go on")
            var batch = try Payload.batch(from: head + 1, count: 6, size: 200)
            #expect(storageError { try log.append(&batch) }?.code == .diskFull, "still full")

            files.faults.withLock { $0.allocate = nil }
            #expect(try log.append(&batch) == head + 6)
            #expect(log.sealedCount == sealed + 1)
            #expect(try log.readAll().positions == Array(1...(head + 6)))
            try log.close()

            let reopened = try fixture.open(try LogFixture.small(segmentBytes: 16 * 1024), knownDurablePosition: head + 6)
            #expect(try reopened.readAll().positions == Array(1...(head + 6)))
            try reopened.verify()
        }
    }

    /// A fresh log whose first segment finds no space fails the append the same way.
    @Test func diskFullOnTheFirstSegment() throws {
        try LogFixture.with { fixture in
            let files = FaultyFileOperations()
            files.faults.withLock { $0.allocate = .noSpace }
            let log = try fixture.open(try LogFixture.small(), files: files)
            var batch = try Payload.batch(from: 1, count: 3)
            #expect(storageError { try log.append(&batch) }?.code == .diskFull)
            #expect(try fixture.fileNames().isEmpty)
            files.faults.withLock { $0.allocate = nil }
            #expect(try log.append(&batch) == 3)
        }
    }

    /// A closed log refuses appends; its records stay readable.
    @Test func closeStopsAppends() throws {
        try LogFixture.with { fixture in
            let log = try fixture.open(try LogFixture.small(syncMode: .normal))
            try log.appendRecords(10)
            try log.close()
            var batch = try Payload.batch(from: 11, count: 1)
            #expect(storageError { try log.append(&batch) }?.code == .stopped)
            #expect(try log.readAll().positions == Array(1...10))
        }
    }
}
