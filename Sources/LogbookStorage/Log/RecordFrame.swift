/// How one record sits in a segment.
///
/// ```
/// | offset | bytes | field                                                        |
/// |--------|-------|--------------------------------------------------------------|
/// |      0 |     4 | length word: bits 0-29 the record's length in bytes (this    |
/// |        |       | header and the payload, no padding); bit 30 "sync start":    |
/// |        |       | the first record written after a sync; bit 31 "batch end":   |
/// |        |       | the last record of its batch                                 |
/// |      4 |     4 | CRC32C of bytes 0..<4, then of bytes 8..<length              |
/// |      8 |     8 | position                                                     |
/// |     16 |     n | payload: opaque bytes (an event in the form a read sends)    |
/// |   16+n |   0-7 | zero padding to a multiple of 8 (LogLimits.recordAlignment)  |
/// ```
/// Integers are little-endian; the format version is the segment header's. The CRC
/// covers the position and the payload, and the length word too, so a damaged length or
/// flag is caught like damaged data. A zero length word is where the records end: the
/// rest of a preallocated segment is zeros, and a valid record is never shorter than
/// its header.
///
/// The flags let recovery tell a torn write from damage (see `SegmentLog`): a batch is
/// kept or cut whole, and a "sync start" record past a damaged one proves the damaged
/// bytes had been synced.
enum RecordFrame {
    static let headerBytes = 16
    static let lengthMask: UInt32 = (1 << 30) - 1
    static let syncStartFlag: UInt32 = 1 << 30
    static let batchEndFlag: UInt32 = 1 << 31

    /// The bytes a record of `length` takes, padding included.
    static func paddedLength(_ length: Int) -> Int {
        (length + LogLimits.recordAlignment - 1) & ~(LogLimits.recordAlignment - 1)
    }

    /// The CRC of a whole record (`record.count` is its length, no padding).
    static func checksum(_ record: UnsafeRawBufferPointer) -> UInt32 {
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: record[0..<4]))
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: record[8...]), extending: crc)
    }

    /// The header of a record, as read back.
    struct Header: Hashable, Sendable {
        var length: Int
        var flags: UInt32
        var checksum: UInt32
        var position: UInt64

        var startsSyncGroup: Bool { flags & RecordFrame.syncStartFlag != 0 }
        var endsBatch: Bool { flags & RecordFrame.batchEndFlag != 0 }
        var paddedLength: Int { RecordFrame.paddedLength(length) }

        /// Reads the 16 header bytes; nil for a zero length word (where the records end).
        init?(_ bytes: UnsafeRawBufferPointer) {
            let word = bytes.loadLittleEndian(at: 0, as: UInt32.self)
            guard word != 0 else { return nil }
            length = Int(word & RecordFrame.lengthMask)
            flags = word & ~RecordFrame.lengthMask
            checksum = bytes.loadLittleEndian(at: 4, as: UInt32.self)
            position = bytes.loadLittleEndian(at: 8, as: UInt64.self)
        }
    }
}
