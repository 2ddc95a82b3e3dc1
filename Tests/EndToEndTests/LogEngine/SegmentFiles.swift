internal import Foundation
internal import Testing

/// The log engine's segment files as a test sees them from outside: `<data>/log/<first
/// position, 20 digits>.seg`, a 4096-byte header page, then records.
///
/// Only the framing is read, as `RecordFrame` documents it (no CRC: the tests that use
/// this damage records on purpose and let the daemon judge them):
/// ```
/// | offset | bytes | field                                                          |
/// |--------|-------|----------------------------------------------------------------|
/// |      0 |     4 | length word: bits 0-29 length (header and payload, no padding),|
/// |        |       | bit 30 "sync start", bit 31 "batch end"                        |
/// |      4 |     4 | CRC32C                                                         |
/// |      8 |     8 | position                                                       |
/// |     16 |     n | payload, then zero padding to a multiple of 8                  |
/// ```
/// A zero length word is where the records end.
struct SegmentFiles {
    static let headerBytes = 4_096
    static let lengthMask: UInt32 = (1 << 30) - 1
    static let syncStartFlag: UInt32 = 1 << 30
    static let batchEndFlag: UInt32 = 1 << 31

    /// One record as it sits in a segment.
    struct Record {
        var offset: Int
        var word: UInt32
        var position: UInt64

        var length: Int { Int(self.word & SegmentFiles.lengthMask) }
        var paddedLength: Int { (self.length + 7) & ~7 }
        var startsSyncGroup: Bool { self.word & SegmentFiles.syncStartFlag != 0 }
        var endsBatch: Bool { self.word & SegmentFiles.batchEndFlag != 0 }
    }

    /// `<data>/log`.
    let directory: String
    let dataPath: String

    init(dataPath: String) {
        self.dataPath = dataPath
        self.directory = dataPath + "/log"
    }

    /// Removes the SQLite files beside the log (indexes and the events' rows are derived):
    /// the next start rebuilds them by reading the log from its first position.
    func removeDatabase() throws {
        for suffix in ["", "-wal", "-shm"] {
            let path = self.dataPath + "/logbook.sqlite" + suffix
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        }
    }

    /// The segment files' paths, oldest first (the names sort by first position).
    func segments() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: self.directory)
            .filter { $0.hasSuffix(".seg") }
            .sorted()
            .map { self.directory + "/" + $0 }
    }

    /// The segment the writer appends to: the last one.
    func active() throws -> String {
        try #require(try self.segments().last, "no segment in \(self.directory)")
    }

    /// Every file in the log folder with its bytes, to show that a refused start left
    /// them as they were.
    func snapshot() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: self.directory) {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: self.directory + "/" + name))
        }
        return files
    }

    /// The records of a segment, from its header to the first zero length word (or to the
    /// first length that cannot be a record).
    static func records(_ path: String) throws -> [Record] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var records: [Record] = []
        var offset = Self.headerBytes
        while offset + 16 <= bytes.count {
            let word = Self.load(UInt32.self, bytes, at: offset)
            let record = Record(offset: offset, word: word, position: Self.load(UInt64.self, bytes, at: offset + 8))
            guard word != 0, record.length >= 16, offset + record.length <= bytes.count else { break }
            records.append(record)
            offset += record.paddedLength
        }
        return records
    }

    /// Where the records of a segment end: the offset of its zero length word.
    static func end(_ path: String) throws -> Int {
        guard let last = try Self.records(path).last else { return Self.headerBytes }
        return last.offset + last.paddedLength
    }

    static func read(_ path: String, at offset: Int, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }

    static func write(_ bytes: [UInt8], to path: String, at offset: Int) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: bytes)
        try handle.synchronize()
    }

    /// The CRC a record carries: CRC32C of its length word, then of its position and
    /// payload (`record` is the record without padding).
    static func checksum(_ record: [UInt8]) -> UInt32 {
        Self.crc32c(Array(record[0..<4]) + Array(record[8...]))
    }

    /// CRC32C (Castagnoli), bit by bit: a handful of records, no table needed.
    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    static func load<Integer: FixedWidthInteger>(_: Integer.Type, _ bytes: [UInt8], at offset: Int) -> Integer {
        var value: Integer = 0
        for index in (0..<MemoryLayout<Integer>.size).reversed() {
            value = value << 8 | Integer(bytes[offset + index])
        }
        return value
    }

    static func store<Integer: FixedWidthInteger>(_ value: Integer, _ bytes: inout [UInt8], at offset: Int) {
        for index in 0..<MemoryLayout<Integer>.size {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8))
        }
    }
}
