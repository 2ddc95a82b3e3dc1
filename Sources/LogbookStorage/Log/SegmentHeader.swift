/// The first page of every segment file: what the file is and how it was written.
///
/// ```
/// | offset | bytes | field                                                        |
/// |--------|-------|--------------------------------------------------------------|
/// |      0 |     8 | magic, ASCII "LOGBKSEG"                                      |
/// |      8 |     1 | format version (1): of this header and of the records        |
/// |      9 |     7 | zero                                                         |
/// |     16 |     8 | first position: of the segment's first record, as in its name |
/// |     24 |     8 | segment bytes: the file's preallocated size, header included |
/// |     32 |     8 | sync reach: the most bytes the writer left unsynced here     |
/// |     40 |     4 | CRC32C of bytes 0..<40                                       |
/// |     44 |  4052 | zero, up to LogLimits.segmentHeaderBytes                     |
/// ```
/// Integers are little-endian. The header is written and fsynced under a temporary name
/// before the segment is renamed into place, so a segment file that exists always has a
/// whole header: a bad one is damage, never a torn write.
struct SegmentHeader: Hashable, Sendable {
    static let magic = Array("LOGBKSEG".utf8)
    static let version: UInt8 = 1
    private static let checksumOffset = 40

    var firstPosition: UInt64
    var segmentBytes: Int64
    var syncReachBytes: Int64

    /// Bytes available for records.
    var capacity: Int64 { segmentBytes - Int64(LogLimits.segmentHeaderBytes) }

    /// The whole header page.
    func encoded() -> [UInt8] {
        var page = [UInt8](repeating: 0, count: LogLimits.segmentHeaderBytes)
        page.withUnsafeMutableBytes { page in
            page.copyBytes(from: Self.magic)
            page[8] = Self.version
            page.storeLittleEndian(firstPosition, at: 16)
            page.storeLittleEndian(UInt64(segmentBytes), at: 24)
            page.storeLittleEndian(UInt64(syncReachBytes), at: 32)
            let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: page[..<Self.checksumOffset]))
            page.storeLittleEndian(checksum, at: Self.checksumOffset)
        }
        return page
    }

    /// Why a header page cannot be used.
    enum Problem: Error, Equatable {
        /// Written by a newer Logbook.
        case newerVersion(UInt8)
        case damaged(String)
    }

    /// Reads and checks a header page.
    static func decode(_ page: UnsafeRawBufferPointer) -> Result<SegmentHeader, Problem> {
        guard page.count >= LogLimits.segmentHeaderBytes else {
            return .failure(.damaged("the file is shorter than its header page"))
        }
        guard page.prefix(magic.count).elementsEqual(magic) else {
            return .failure(.damaged("no segment magic"))
        }
        let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: page[..<checksumOffset]))
        guard checksum == page.loadLittleEndian(at: checksumOffset, as: UInt32.self) else {
            return .failure(.damaged("header checksum mismatch"))
        }
        guard page[8] <= version else { return .failure(.newerVersion(page[8])) }
        guard page[8] == version, page[9..<16].allSatisfy({ $0 == 0 }) else {
            return .failure(.damaged("unknown header version \(page[8])"))
        }
        let header = SegmentHeader(
            firstPosition: page.loadLittleEndian(at: 16, as: UInt64.self),
            segmentBytes: Int64(truncatingIfNeeded: page.loadLittleEndian(at: 24, as: UInt64.self)),
            syncReachBytes: Int64(truncatingIfNeeded: page.loadLittleEndian(at: 32, as: UInt64.self)))
        guard header.firstPosition > 0,
            (LogLimits.segmentBytesMin...LogLimits.segmentBytesMax).contains(header.segmentBytes),
            header.segmentBytes % Int64(LogLimits.recordAlignment) == 0,
            (LogLimits.syncReachBytesMin...min(header.capacity, Int64(LogLimits.recordBytesMax)))
                .contains(header.syncReachBytes)
        else {
            return .failure(.damaged("header fields out of range"))
        }
        return .success(header)
    }
}
