internal import Foundation
@testable internal import LogbookStorage
internal import Logging
internal import Synchronization
internal import Testing
internal import SystemPackage

/// A temporary data directory for a segment log, and the helpers the log tests share.
struct LogFixture {
    let dataDirectory: FilePath
    var logDirectory: FilePath { dataDirectory.appending("log") }

    static let logger = Logger(label: "logbook.log.tests") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `body` with a fresh directory, removing it afterwards.
    static func with<T>(_ body: (LogFixture) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("logbook-log-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(LogFixture(dataDirectory: FilePath(path)))
    }

    static func with<T>(_ body: (LogFixture) async throws -> T) async throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("logbook-log-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(LogFixture(dataDirectory: FilePath(path)))
    }

    /// Small segments, so tests cross many rolls.
    static func small(segmentBytes: Int64 = 64 * 1024, syncReachBytes: Int64? = nil, syncMode: SyncMode = .full) throws
        -> LogConfiguration
    {
        try LogConfiguration(segmentBytes: segmentBytes, syncReachBytes: syncReachBytes, syncMode: syncMode)
    }

    func open(
        _ configuration: LogConfiguration,
        knownDurablePosition: UInt64 = 0,
        files: any LogFileOperations = SystemFileOperations()
    ) throws -> SegmentLog {
        try SegmentLog.open(
            dataDirectory: dataDirectory, configuration: configuration, knownDurablePosition: knownDurablePosition,
            files: files, logger: Self.logger)
    }

    /// Appends `records` to the log here and closes it, as an earlier run would leave
    /// it; returns where the next record would go and how many segments are sealed.
    @discardableResult
    func writeLog(_ configuration: LogConfiguration, records: Int, batchSize: Int = 10, size: Int? = nil) throws
        -> (offset: Int64, segment: String, sealed: Int)
    {
        let log = try open(configuration, knownDurablePosition: 0)
        try log.appendRecords(records, batchSize: batchSize, size: size)
        try log.close()
        let point = log.writePoint
        return (point.offset, point.segment, log.sealedCount)
    }

    /// The segment and index files, by name.
    func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: logDirectory.string).sorted()
    }

    func path(_ name: String) -> String { logDirectory.appending(name).string }

    func segmentName(_ first: UInt64) -> String { SegmentFile.name(firstPosition: first, suffix: "seg") }
    func indexName(_ first: UInt64) -> String { SegmentFile.name(firstPosition: first, suffix: "idx") }

    func bytes(of name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// Overwrites bytes of a file in place, as a crash or a bad disk would leave them.
    func write(_ bytes: [UInt8], to name: String, at offset: Int64) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path(name)))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
    }

    /// Flips every bit of one byte.
    func flipByte(in name: String, at offset: Int64) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path(name)))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try handle.read(upToCount: 1)?.first ?? 0
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data([~byte]))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path(name))
    }
}

/// Deterministic payloads: every position has its own bytes and a size that varies.
enum Payload {
    static func of(_ position: UInt64, size: Int? = nil) -> [UInt8] {
        let count = size ?? Int(position % 23) * 11 + 1
        return (0..<count).map { UInt8(truncatingIfNeeded: position &* 31 &+ UInt64($0)) }
    }

    /// A framed batch of `count` records from `first`.
    static func batch(from first: UInt64, count: Int, size: Int? = nil) throws -> LogBatch {
        var batch = LogBatch()
        for position in first..<(first + UInt64(count)) {
            try batch.append(position: position, payload: of(position, size: size))
        }
        return batch
    }

    /// The bytes a batch would have on disk.
    static func framed(from first: UInt64, count: Int, size: Int? = nil, startsSyncGroup: Bool = true) throws -> [UInt8] {
        var batch = try batch(from: first, count: count, size: size)
        batch.seal(startsSyncGroup: startsSyncGroup)
        return batch.bytes
    }
}

extension SegmentLog {
    /// Appends `count` records after the head in batches of `batchSize`.
    @discardableResult
    func appendRecords(_ count: Int, batchSize: Int = 10, size: Int? = nil) throws -> UInt64 {
        var remaining = count
        var head = headPosition
        while remaining > 0 {
            let take = min(batchSize, remaining)
            var batch = try Payload.batch(from: head + 1, count: take, size: size)
            head = try append(&batch)
            remaining -= take
        }
        return head
    }

    /// Every record, forwards from the first.
    func readAll() throws -> LogRecords {
        try read(from: 1, direction: .forwards, countMax: Int.max, bytesMax: Int.max)
    }

    /// Where the writer would put the next record, and the active segment's name.
    var writePoint: (offset: Int64, segment: String) {
        writer.withLock { state in
            (state.active?.writeOffset ?? 0, state.active.map { $0.file.path.lastComponent!.string } ?? "")
        }
    }

    var sealedCount: Int { published.withLock { $0.sealed.count } }
}

/// Checks records against `Payload.of`.
func expectPayloads(_ records: LogRecords, sizes: Int? = nil) -> Bool {
    records.allSatisfy { Array($0.payload) == Payload.of($0.position, size: sizes) }
}

/// The real file system with faults on demand, so a test can fail a write, a sync or a
/// preallocation and watch what the log does. Counts the writes and syncs it passes on.
final class FaultyFileOperations: LogFileOperations {
    struct Faults {
        var write: Errno?
        var dataSync: Errno?
        var allocate: Errno?
        var writes = 0
        var dataSyncs = 0
    }

    private let real = SystemFileOperations()
    let faults = Mutex(Faults())

    var writes: Int { faults.withLock { $0.writes } }
    var dataSyncs: Int { faults.withLock { $0.dataSyncs } }

    func openFile(_ path: FilePath, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions)
        throws(Errno) -> FileDescriptor
    {
        try real.openFile(path, mode, options: options)
    }

    func close(_ descriptor: FileDescriptor) throws(Errno) { try real.close(descriptor) }

    func read(_ descriptor: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64)
        throws(Errno) -> Int
    {
        try real.read(descriptor, into: buffer, at: offset)
    }

    func write(_ descriptor: FileDescriptor, _ buffers: [UnsafeRawBufferPointer], at offset: Int64)
        throws(Errno) -> Int
    {
        if let fault = faults.withLock({ state -> Errno? in
            state.writes += 1
            return state.write
        }) {
            throw fault
        }
        return try real.write(descriptor, buffers, at: offset)
    }

    func dataSync(_ descriptor: FileDescriptor) throws(Errno) {
        if let fault = faults.withLock({ state -> Errno? in
            state.dataSyncs += 1
            return state.dataSync
        }) {
            throw fault
        }
        try real.dataSync(descriptor)
    }

    func sync(_ descriptor: FileDescriptor) throws(Errno) { try real.sync(descriptor) }

    func allocate(_ descriptor: FileDescriptor, bytes: Int64) throws(Errno) {
        if let fault = faults.withLock({ $0.allocate }) { throw fault }
        try real.allocate(descriptor, bytes: bytes)
    }

    func size(of descriptor: FileDescriptor) throws(Errno) -> Int64 { try real.size(of: descriptor) }
    func rename(_ source: FilePath, to target: FilePath) throws(Errno) { try real.rename(source, to: target) }
    func remove(_ path: FilePath) throws(Errno) { try real.remove(path) }
    func createDirectory(_ path: FilePath) throws(Errno) -> Bool { try real.createDirectory(path) }
    func contentsOfDirectory(_ path: FilePath) throws(Errno) -> [String] { try real.contentsOfDirectory(path) }
}

extension LogFixture {
    /// The records of a segment file as its bytes say, read without the log's code:
    /// offset, position and length of each, up to the first zero length word.
    func records(in name: String) throws -> [(offset: Int64, position: UInt64, length: Int)] {
        let bytes = try bytes(of: name)
        var records = [(offset: Int64, position: UInt64, length: Int)]()
        var offset = LogLimits.segmentHeaderBytes
        while offset + 16 <= bytes.count {
            let word = bytes[offset..<(offset + 4)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(word & ((1 << 30) - 1))
            guard length >= 16 else { break }
            let position = bytes[(offset + 8)..<(offset + 16)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            records.append((Int64(offset), position, length))
            offset += (length + 7) & ~7
        }
        return records
    }

    /// The offset of a position's record in a segment file.
    func offset(of position: UInt64, in name: String) throws -> Int64 {
        try #require(try records(in: name).first { $0.position == position }).offset
    }
}

/// The `StorageError` a call throws, nil when it throws nothing (or something else).
func storageError(_ body: () throws -> some Any) -> StorageError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? StorageError
    }
}

/// True when `error` is `.corrupt` and names the file and the byte offset.
func names(_ error: StorageError?, corrupt path: String, offset: Int64) -> Bool {
    guard let error, error.code == .corrupt else { return false }
    return error.message.contains(path) && error.message.contains("byte offset \(offset):")
}
