/// Records on their way into the log, already framed as they will sit on disk.
///
/// The writer fills one batch per group commit and hands it to `SegmentLog.append`,
/// which writes its bytes with one `pwritev`. Framing here means a payload is copied once,
/// into this buffer, or not at all: `append(position:payloadBytes:writing:)` lets an
/// encoder write straight into it. `removeAll()` keeps the capacity, so a writer that
/// reuses one batch allocates only for a batch larger than any before.
struct LogBatch: Sendable {
    /// The framed records, back to back (see `RecordFrame`).
    private(set) var bytes: [UInt8] = []
    private(set) var firstPosition: UInt64 = 0
    private(set) var count = 0
    /// The longest record, padding included.
    private(set) var largestRecordBytes = 0

    init() {}

    var isEmpty: Bool { count == 0 }
    var lastPosition: UInt64 { firstPosition + UInt64(count) - 1 }

    /// Appends a record; its position must follow the batch's last one.
    mutating func append(position: UInt64, payload: some Collection<UInt8>) throws(StorageError) {
        try append(position: position, payloadBytes: payload.count) { buffer in
            // A contiguous payload (an array, a slice) is one memcpy; the generic copy
            // below would go through the runtime's generic metadata per call.
            if payload.withContiguousStorageIfAvailable({ buffer.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
                buffer.copyBytes(from: payload)
            }
        }
    }

    /// Appends a record of `payloadBytes` that `writing` fills in place (the buffer it
    /// gets is zeroed and exactly that long).
    mutating func append(
        position: UInt64,
        payloadBytes: Int,
        writing: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(StorageError) {
        let length = try checkedLength(position: position, payloadBytes: payloadBytes)
        let padded = RecordFrame.paddedLength(length)
        let start = bytes.count
        appendZeros(padded)
        bytes.withUnsafeMutableBytes { bytes in
            bytes.storeLittleEndian(UInt32(length), at: start)
            bytes.storeLittleEndian(position, at: start + 8)
            writing(UnsafeMutableRawBufferPointer(rebasing: bytes[(start + RecordFrame.headerBytes)..<(start + length)]))
        }
        if count == 0 { firstPosition = position }
        count += 1
        largestRecordBytes = max(largestRecordBytes, padded)
    }

    /// Zeros from a shared page, a slice at a time: a contiguous source is one memcpy
    /// even in a debug build, where appending a `repeatElement` goes byte by byte
    /// through generic code (most of a debug daemon's append time).
    private mutating func appendZeros(_ count: Int) {
        var remaining = count
        while remaining > 0 {
            let chunk = min(remaining, Self.zeros.count)
            bytes.append(contentsOf: Self.zeros[0..<chunk])
            remaining -= chunk
        }
    }

    private static let zeros = [UInt8](repeating: 0, count: 64 * 1024)

    /// Empties the batch, keeping its buffer for the next one.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        firstPosition = 0
        count = 0
        largestRecordBytes = 0
    }

    /// Sets the flags and the CRC of every record, just before the batch is written:
    /// "batch end" on the last record, "sync start" on the first when a sync precedes it.
    mutating func seal(startsSyncGroup: Bool) {
        let count = count
        bytes.withUnsafeMutableBytes { bytes in
            var offset = 0
            for index in 0..<count {
                let length = Int(UnsafeRawBufferPointer(bytes).loadLittleEndian(at: offset, as: UInt32.self) & RecordFrame.lengthMask)
                var word = UInt32(length)
                if index == 0 && startsSyncGroup { word |= RecordFrame.syncStartFlag }
                if index == count - 1 { word |= RecordFrame.batchEndFlag }
                bytes.storeLittleEndian(word, at: offset)
                let record = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
                bytes.storeLittleEndian(RecordFrame.checksum(record), at: offset + 4)
                offset += RecordFrame.paddedLength(length)
            }
        }
    }

    private func checkedLength(position: UInt64, payloadBytes: Int) throws(StorageError) -> Int {
        guard position > 0 else { throw .invalidArgument("log positions start at 1") }
        guard count == 0 || position == firstPosition + UInt64(count) else {
            throw .invalidArgument(
                "log positions must be consecutive: expected \(firstPosition + UInt64(count)), got \(position)")
        }
        guard payloadBytes >= 0, payloadBytes <= LogLimits.recordBytesMax - RecordFrame.headerBytes else {
            throw .invalidArgument("a log record of \(payloadBytes) payload bytes is larger than any segment")
        }
        return RecordFrame.headerBytes + payloadBytes
    }

}
