/// Reads a segment's records one after another, a chunk (`LogLimits.readChunkBytes`)
/// per `pread`.
///
/// Each record it returns has been checked: its length fits the segment and the reach it
/// was written with, and (unless asked not to) its CRC matches. Positions are the
/// caller's to check, since only the caller knows which one comes next.
struct RecordCursor {
    enum Step {
        /// A valid record; its payload is `bytes[payload]` until the next call.
        case record(RecordFrame.Header, payload: Range<Int>)
        /// A zero length word, or no room for another record: where the records end.
        case end
        /// Not a valid record, for this reason.
        case invalid(String)
    }

    let file: SegmentFile
    /// Where the next record starts.
    private(set) var offset: Int64
    /// The bytes read; `Step.record`'s payload range indexes them.
    private(set) var bytes: [UInt8] = []
    private var bytesStart: Int64 = 0
    private var bytesCount = 0

    /// Where records may run to: the segment's end, or an earlier `end` (a backup holds a
    /// segment only up to its last record).
    let segmentEnd: Int64

    init(file: SegmentFile, offset: Int64, end: Int64? = nil) {
        self.file = file
        self.offset = offset
        self.segmentEnd = min(end ?? file.header.segmentBytes, file.header.segmentBytes)
    }


    /// Goes on from `offset` (a record's start) in the same file, keeping the bytes read:
    /// a jump within them costs no read, and a farther one reuses the buffer.
    mutating func move(to offset: Int64) {
        self.offset = offset
    }

    mutating func next(checkingChecksum: Bool = true) throws(StorageError) -> Step {
        let headerBytes = RecordFrame.headerBytes
        guard offset + Int64(headerBytes) <= segmentEnd else { return .end }
        guard try load(at: offset, count: headerBytes) else { return .invalid("the file ends inside a record header") }
        let start = Int(offset - bytesStart)
        let parsed = bytes.withUnsafeBytes { bytes in
            RecordFrame.Header(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + headerBytes)]))
        }
        guard let header = parsed else { return .end }
        guard header.length >= headerBytes else {
            return .invalid("record length \(header.length) is shorter than a record header")
        }
        guard header.length <= file.header.syncReachBytes, offset + Int64(header.paddedLength) <= segmentEnd else {
            return .invalid("record length \(header.length) runs past the segment or its sync reach")
        }
        guard try load(at: offset, count: header.length) else { return .invalid("the file ends inside a record") }
        let recordStart = Int(offset - bytesStart)
        if checkingChecksum {
            let checksum = bytes.withUnsafeBytes { bytes in
                RecordFrame.checksum(UnsafeRawBufferPointer(rebasing: bytes[recordStart..<(recordStart + header.length)]))
            }
            guard checksum == header.checksum else { return .invalid("record checksum mismatch") }
        }
        offset += Int64(header.paddedLength)
        return .record(header, payload: (recordStart + headerBytes)..<(recordStart + header.length))
    }

    /// Makes `bytes` hold `count` bytes from `at`, reading a chunk or more when they do
    /// not already; false when the file ends first.
    private mutating func load(at position: Int64, count: Int) throws(StorageError) -> Bool {
        if position >= bytesStart, position + Int64(count) <= bytesStart + Int64(bytesCount) { return true }
        let wanted = Int(min(Int64(max(count, LogLimits.readChunkBytes)), segmentEnd - position))
        if bytes.count < wanted { bytes = [UInt8](repeating: 0, count: wanted) }
        let file = file
        let read = try bytes.withMutableBytes { (bytes) throws(StorageError) -> Int in
            try file.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<wanted]), at: position)
        }
        bytesStart = position
        bytesCount = read
        return read >= count
    }
}
