internal import SystemPackage

/// The scans of one segment that recovery, index rebuilds and `verify` share.
extension SegmentFile {
    /// Where the scan of an active segment stopped.
    struct ScanStop {
        /// The offset of the first byte that is not a valid record.
        var offset: Int64
        /// Why that is not a record; nil for a clean end (a zero length word, or a full segment).
        var damage: String?
    }

    /// What the scan of an active segment found: every valid record from the start, in
    /// consecutive positions, up to `stop`.
    struct ActiveScan {
        var stop: ScanStop
        var index = OffsetIndex()
        /// The end of the last record that ends a batch, and its position: what survives.
        var committedEnd: Int64
        var committedPosition: UInt64
    }

    /// Reads the active segment's records from its start to the first that is not valid.
    /// A valid record in the wrong position is damage whatever else is found (a torn write
    /// leaves stale zeros, never a well-formed record that does not belong), so it throws.
    func scanActive() throws(StorageError) -> ActiveScan {
        var cursor = RecordCursor(file: self, offset: Int64(LogLimits.segmentHeaderBytes))
        var scan = ActiveScan(
            stop: ScanStop(offset: cursor.offset), committedEnd: cursor.offset, committedPosition: firstPosition - 1)
        var expected = firstPosition
        while true {
            let offset = cursor.offset
            switch try cursor.next() {
            case .record(let header, _):
                guard header.position == expected else {
                    throw damaged(at: offset, "a valid record has position \(header.position) where \(expected) belongs (a gap or a repeat)")
                }
                scan.index.note(position: expected, offset: offset)
                if header.endsBatch {
                    scan.committedEnd = cursor.offset
                    scan.committedPosition = expected
                }
                expected += 1
            case .end:
                scan.stop = ScanStop(offset: offset)
                return scan
            case .invalid(let reason):
                scan.stop = ScanStop(offset: offset, damage: reason)
                return scan
            }
        }
    }

    /// Reads a sealed segment whole: every record valid, positions from the first to
    /// `lastPosition` with no gap, the last one ending a batch, then the end. Anything
    /// else is damage: a segment is sealed only after its records were synced. `end`: where
    /// the records must stop, when the file holds less than the whole segment (a backup).
    func scanSealed(lastPosition: UInt64, end: Int64? = nil) throws(StorageError) -> IndexFile.Contents {
        var cursor = RecordCursor(file: self, offset: Int64(LogLimits.segmentHeaderBytes), end: end)
        var index = OffsetIndex()
        var expected = firstPosition
        var endsBatch = false
        while true {
            let offset = cursor.offset
            switch try cursor.next() {
            case .record(let header, _):
                guard header.position == expected else {
                    throw damaged(at: offset, "a record has position \(header.position) where \(expected) belongs (a gap or a repeat)")
                }
                guard expected <= lastPosition else {
                    throw damaged(at: offset, "record \(expected) is past this sealed segment's last position \(lastPosition)")
                }
                index.note(position: expected, offset: offset)
                endsBatch = header.endsBatch
                expected += 1
            case .end:
                guard expected - 1 == lastPosition else {
                    throw damaged(at: offset, "the records end at position \(expected - 1), but the next segment starts at \(lastPosition + 1)")
                }
                guard endsBatch else { throw damaged(at: offset, "the sealed segment's last record does not end a batch") }
                return IndexFile.Contents(firstPosition: firstPosition, lastPosition: lastPosition, endOffset: offset, index: index)
            case .invalid(let reason):
                throw damaged(at: offset, "\(reason) (in a sealed segment, synced before the next one was created)")
            }
        }
    }

    /// What lies past the point where an active segment's scan stopped.
    struct Tail {
        /// Valid records (length, position range and CRC all fit) found past the stop.
        var records: [(offset: Int64, header: RecordFrame.Header)] = []
        /// The end of the last non-zero 8-byte word; the stop offset when there is none.
        var damageEnd: Int64
    }

    /// Looks at every 8-byte slot from `start` to the segment's end for non-zero bytes
    /// and for valid records whose position is above `positionFloor` (records are 8-byte
    /// aligned, so a record that survived past damage starts at one of these slots).
    func inspectTail(from start: Int64, positionsAbove positionFloor: UInt64) throws(StorageError) -> Tail {
        var tail = Tail(damageEnd: start)
        let end = header.segmentBytes
        let positionCeiling = positionFloor + UInt64(header.capacity / Int64(RecordFrame.headerBytes))
        var chunk = [UInt8](repeating: 0, count: LogLimits.readChunkBytes)
        var chunkStart = start
        while chunkStart < end {
            let wanted = Int(min(Int64(chunk.count), end - chunkStart))
            let count = try chunk.withMutableBytes { (chunk) throws(StorageError) -> Int in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[..<wanted]), at: chunkStart)
            }
            var candidates = [Int64]()
            chunk.withUnsafeBytes { chunk in
                var slot = 0
                while slot + 8 <= count {
                    let word = chunk.loadLittleEndian(at: slot, as: UInt64.self)
                    if word != 0 {
                        let offset = chunkStart + Int64(slot)
                        tail.damageEnd = offset + 8
                        let length = Int(UInt32(truncatingIfNeeded: word) & RecordFrame.lengthMask)
                        if length >= RecordFrame.headerBytes, length <= header.syncReachBytes,
                            offset + Int64(RecordFrame.paddedLength(length)) <= end
                        {
                            candidates.append(offset)
                        }
                    }
                    slot += 8
                }
            }
            for offset in candidates {
                if let record = try validRecord(at: offset, positionsIn: (positionFloor + 1)...positionCeiling) {
                    tail.records.append((offset, record))
                }
            }
            if count < wanted { break }
            chunkStart += Int64(count)
        }
        return tail
    }

    /// The record at `offset` when it is whole and valid with a position in `positions`.
    private func validRecord(at offset: Int64, positionsIn positions: ClosedRange<UInt64>) throws(StorageError) -> RecordFrame.Header? {
        var headerBytes = [UInt8](repeating: 0, count: RecordFrame.headerBytes)
        let count = try headerBytes.withMutableBytes { (bytes) throws(StorageError) -> Int in
            try read(into: bytes, at: offset)
        }
        guard count == RecordFrame.headerBytes,
            let header = headerBytes.withUnsafeBytes({ RecordFrame.Header($0) }),
            positions.contains(header.position)
        else { return nil }
        var record = [UInt8](repeating: 0, count: header.length)
        let recordCount = try record.withMutableBytes { (bytes) throws(StorageError) -> Int in
            try read(into: bytes, at: offset)
        }
        guard recordCount == header.length,
            record.withUnsafeBytes({ RecordFrame.checksum($0) }) == header.checksum
        else { return nil }
        return header
    }

    /// Overwrites `range` with zeros and syncs: how a torn tail is cut.
    func zero(_ range: Range<Int64>) throws(StorageError) {
        let zeros = [UInt8](repeating: 0, count: LogLimits.zeroChunkBytes)
        var offset = range.lowerBound
        do {
            while offset < range.upperBound {
                let count = Int(min(Int64(zeros.count), range.upperBound - offset))
                try zeros.withBytes { (zeros) throws(Errno) in
                    try files.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: zeros[..<count]), at: offset)
                }
                offset += Int64(count)
            }
            try files.dataSync(descriptor)
        } catch {
            throw StorageError(
                code: .stopped, message: "cannot cut the torn tail of log segment \(path) at byte offset \(offset): \(error)",
                cause: error)
        }
    }
}
