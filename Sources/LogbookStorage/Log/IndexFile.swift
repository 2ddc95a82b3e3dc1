internal import Logging
internal import SystemPackage

/// The `<first>.idx` file written beside a segment when it is sealed: its sparse offset
/// index and where its records end, so opening a log reads these small files instead of
/// scanning every sealed segment.
///
/// ```
/// | offset | bytes | field                                                       |
/// |--------|-------|-------------------------------------------------------------|
/// |      0 |     8 | magic, ASCII "LOGBKIDX"                                     |
/// |      8 |     1 | format version (1)                                          |
/// |      9 |     3 | zero                                                        |
/// |     12 |     4 | entry count n                                               |
/// |     16 |     8 | first position of the segment                               |
/// |     24 |     8 | last position of the segment                                |
/// |     32 |     8 | end offset: where the segment's last record (padded) ends   |
/// |     40 |     4 | CRC32C of bytes 0..<40, then of bytes 48..<48 + 8n           |
/// |     44 |     4 | zero                                                        |
/// |     48 |    8n | entries: position - first position (4), byte offset (4)     |
/// ```
/// Integers are little-endian. The file is derived: one that fails any check is
/// rebuilt from its segment, never trusted.
enum IndexFile {
    static let magic = Array("LOGBKIDX".utf8)
    static let version: UInt8 = 1
    static let headerBytes = 48
    static let entryBytes = 8

    /// What an index file says about its sealed segment.
    struct Contents: Sendable, Hashable {
        var firstPosition: UInt64
        var lastPosition: UInt64
        var endOffset: Int64
        var index: OffsetIndex
    }

    static func encode(_ contents: Contents) -> [UInt8] {
        let entries = contents.index.entries
        var bytes = [UInt8](repeating: 0, count: headerBytes + entryBytes * entries.count)
        bytes.withUnsafeMutableBytes { bytes in
            bytes.copyBytes(from: magic)
            bytes[8] = version
            bytes.storeLittleEndian(UInt32(entries.count), at: 12)
            bytes.storeLittleEndian(contents.firstPosition, at: 16)
            bytes.storeLittleEndian(contents.lastPosition, at: 24)
            bytes.storeLittleEndian(UInt64(contents.endOffset), at: 32)
            for (number, entry) in entries.enumerated() {
                let at = headerBytes + entryBytes * number
                bytes.storeLittleEndian(UInt32(entry.position - contents.firstPosition), at: at)
                bytes.storeLittleEndian(UInt32(entry.offset), at: at + 4)
            }
            bytes.storeLittleEndian(checksum(UnsafeRawBufferPointer(bytes)), at: 40)
        }
        return bytes
    }

    /// The contents when the file is whole and fits `header`; otherwise why not.
    /// Why an index file cannot be used.
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, segment header: SegmentHeader) -> Result<Contents, Problem> {
        guard bytes.count >= headerBytes, bytes.prefix(magic.count).elementsEqual(magic) else {
            return .failure(Problem(description: "not an index file"))
        }
        let count = Int(bytes.loadLittleEndian(at: 12, as: UInt32.self))
        guard bytes.count == headerBytes + entryBytes * count else { return .failure(Problem(description: "wrong size for \(count) entries")) }
        guard checksum(bytes) == bytes.loadLittleEndian(at: 40, as: UInt32.self) else {
            return .failure(Problem(description: "checksum mismatch"))
        }
        guard bytes[8] == version else { return .failure(Problem(description: "unknown version \(bytes[8])")) }
        let first = bytes.loadLittleEndian(at: 16, as: UInt64.self)
        let last = bytes.loadLittleEndian(at: 24, as: UInt64.self)
        let end = Int64(truncatingIfNeeded: bytes.loadLittleEndian(at: 32, as: UInt64.self))
        let recordsStart = Int64(LogLimits.segmentHeaderBytes)
        guard first == header.firstPosition, last >= first, end > recordsStart, end <= header.segmentBytes else {
            return .failure(Problem(description: "does not fit its segment"))
        }
        var entries = [OffsetIndex.Entry]()
        entries.reserveCapacity(count)
        for number in 0..<count {
            let at = headerBytes + entryBytes * number
            let entry = OffsetIndex.Entry(
                position: first + UInt64(bytes.loadLittleEndian(at: at, as: UInt32.self)),
                offset: Int64(bytes.loadLittleEndian(at: at + 4, as: UInt32.self)))
            let previous = entries.last ?? OffsetIndex.Entry(position: first - 1, offset: recordsStart - 1)
            guard entry.position > previous.position, entry.position <= last,
                entry.offset > previous.offset, entry.offset < end,
                entry.offset % Int64(LogLimits.recordAlignment) == 0
            else {
                return .failure(Problem(description: "entry \(number) out of order or out of range"))
            }
            entries.append(entry)
        }
        guard entries.first == OffsetIndex.Entry(position: first, offset: recordsStart) else {
            return .failure(Problem(description: "does not start at the segment's first record"))
        }
        return .success(Contents(firstPosition: first, lastPosition: last, endOffset: end, index: OffsetIndex(entries: entries)))
    }

    private static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<40]))
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[headerBytes...]), extending: crc)
    }

    /// Writes and syncs an index file, replacing any old one. A failure only costs a
    /// scan of the segment at the next start, so it is logged, not thrown.
    static func write(_ contents: Contents, to path: FilePath, files: any LogFileOperations, logger: Logger) {
        let bytes = encode(contents)
        do {
            let descriptor = try files.openFile(path, .writeOnly, options: [.create, .truncate, .closeOnExec])
            defer { try? files.close(descriptor) }
            try bytes.withBytes { (bytes) throws(Errno) in try files.writeAll(descriptor, bytes, at: 0) }
            try files.dataSync(descriptor)
        } catch {
            logger.warning(
                "cannot write a log index file; the segment will be scanned at the next start instead",
                metadata: ["file": "\(path)", "error": "\(error)"])
            try? files.remove(path)
        }
    }
}
