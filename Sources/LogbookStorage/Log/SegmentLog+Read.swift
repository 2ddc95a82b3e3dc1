internal import Synchronization
extension SegmentLog {
    /// Records from `position` on, forwards or backwards, never past the published head:
    /// at most `countMax` records and, after the first, at most `bytesMax` payload bytes
    /// in all (the first record always comes, so a reader can always move on).
    ///
    /// Forwards from a position below the log's first reads from the first; backwards
    /// from past the head reads from the head. Each record read is checked; damage throws
    /// `.corrupt` naming the segment file and the byte offset.
    func read(from position: UInt64, direction: ReadDirection, countMax: Int, bytesMax: Int) throws(StorageError) -> LogRecords {
        var records = LogRecords()
        guard countMax > 0 else { return records }
        switch direction {
        case .forwards:
            var next = max(position, firstPosition)
            while records.count < countMax, let location = locate(next) {
                let done = try scan(location, from: next) { position, payload in
                    if !records.isEmpty, records.payloadBytes.count + payload.count > bytesMax { return false }
                    records.append(position: position, payload: payload)
                    return records.count < countMax
                }
                if done { break }
                next = location.lastPosition + 1
            }
        case .backwards:
            var upper = min(position, headPosition)
            let first = firstPosition
            while records.count < countMax, upper >= first, let location = locate(upper) {
                // One index interval at a time: scan forwards from the entry, then hand
                // the records out newest first.
                let remaining = UInt64(countMax - records.count)
                let lower = max(location.entry.position, upper >= remaining ? upper - remaining + 1 : 0)
                var window = LogRecords()
                _ = try scan(location, from: lower) { position, payload in
                    window.append(position: position, payload: payload)
                    return position < upper
                }
                for record in window.reversed() {
                    if !records.isEmpty, records.payloadBytes.count + record.payload.count > bytesMax { return records }
                    records.append(position: record.position, payload: record.payload)
                }
                upper = lower - 1
            }
        }
        return records
    }

    /// The records at `positions`, which ascend, in their order; stops early (fewer
    /// records) at a position the log does not hold.
    ///
    /// One forward scan per segment: records between two wanted positions are stepped
    /// over when they are fewer than an offset-index interval (their bytes are mostly in
    /// the chunk read already), else the scan jumps through the index. So the scattered
    /// events of one stream cost about one chunk read per interval they span, not one
    /// lookup each.
    func read(positions: [UInt64]) throws(StorageError) -> LogRecords {
        var records = LogRecords()
        var next = 0
        while next < positions.count, let location = locate(positions[next]) {
            var cursor = RecordCursor(file: location.file, offset: location.entry.offset)
            var expected = location.entry.position
            while next < positions.count, positions[next] <= location.lastPosition {
                let target = positions[next]
                if target < expected || target - expected > LogLimits.offsetIndexIntervalRecords {
                    guard let jump = locate(target), jump.file === location.file else { break }
                    cursor.move(to: jump.entry.offset)
                    expected = jump.entry.position
                }
                while expected <= target {
                    let payload = try Self.nextRecord(&cursor, at: expected, checkingChecksum: expected == target)
                    if expected == target { records.append(position: expected, payload: cursor.bytes[payload]) }
                    expected += 1
                }
                next += 1
            }
        }
        return records
    }

    /// Where a position's segment is and the index entry to start scanning from.
    struct Location {
        var file: SegmentFile
        var entry: OffsetIndex.Entry
        /// The segment's last readable position: its last one, or the head.
        var lastPosition: UInt64
    }

    /// Finds `position` through the published state, nil when it is not in the log.
    func locate(_ position: UInt64) -> Location? {
        published.withLock { state -> Location? in
            guard position > 0, position <= state.head else { return nil }
            if let active = state.active, position >= active.firstPosition {
                return state.activeIndex.entry(atOrBefore: position).map {
                    Location(file: active, entry: $0, lastPosition: state.head)
                }
            }
            var low = 0
            var high = state.sealed.count
            while low < high {
                let middle = (low + high) / 2
                if state.sealed[middle].file.firstPosition <= position { low = middle + 1 } else { high = middle }
            }
            guard low > 0 else { return nil }
            let segment = state.sealed[low - 1]
            guard position <= segment.lastPosition else { return nil }
            return segment.index.entry(atOrBefore: position).map {
                Location(file: segment.file, entry: $0, lastPosition: segment.lastPosition)
            }
        }
    }

    /// Reads the records of one segment from the location's entry to its last position,
    /// giving those from `start` on to `body` until it returns false. Returns true when
    /// `body` stopped the scan.
    private func scan(
        _ location: Location,
        from start: UInt64,
        _ body: (UInt64, ArraySlice<UInt8>) -> Bool
    ) throws(StorageError) -> Bool {
        var cursor = RecordCursor(file: location.file, offset: location.entry.offset)
        var expected = location.entry.position
        while expected <= location.lastPosition {
            let wanted = expected >= start
            // Records before `start` are only stepped over: their CRC is checked when
            // they are read for themselves.
            let payload = try Self.nextRecord(&cursor, at: expected, checkingChecksum: wanted)
            if wanted, !body(expected, cursor.bytes[payload]) { return true }
            expected += 1
        }
        return false
    }

    /// The next record, which must be at `expected`: its payload's range in
    /// `cursor.bytes`. Anything else there is damage, named with its file and offset.
    static func nextRecord(
        _ cursor: inout RecordCursor, at expected: UInt64, checkingChecksum: Bool
    ) throws(StorageError) -> Range<Int> {
        let offset = cursor.offset
        switch try cursor.next(checkingChecksum: checkingChecksum) {
        case .record(let header, let payload) where header.position == expected:
            return payload
        case .record(let header, _):
            throw cursor.file.damaged(at: offset, "found position \(header.position) where \(expected) belongs")
        case .end:
            throw cursor.file.damaged(at: offset, "the records end before position \(expected)")
        case .invalid(let reason):
            throw cursor.file.damaged(at: offset, reason)
        }
    }
}

extension SegmentLog {
    /// The bytes of each segment that hold positions up to `position`, a published head:
    /// all of each sealed segment below it, and the segment it is in up to the end of its
    /// record. Those bytes are durable and never written again, so they can be read while
    /// the writer goes on.
    func extents(upTo position: UInt64) throws(StorageError) -> [(file: SegmentFile, bytes: Int64)] {
        guard position > 0 else { return [] }
        let sealed = published.withLock { $0.sealed }
        var extents = [(file: SegmentFile, bytes: Int64)]()
        for segment in sealed where segment.lastPosition <= position {
            extents.append((segment.file, segment.endOffset))
            if segment.lastPosition == position { return extents }
        }
        // The rest of the way into the segment `position` is in, sealed or active.
        guard let location = locate(position) else {
            throw .corrupt("position \(position) is not in the log, which ends at \(headPosition)")
        }
        var cursor = RecordCursor(file: location.file, offset: location.entry.offset)
        var expected = location.entry.position
        while expected <= position {
            _ = try Self.nextRecord(&cursor, at: expected, checkingChecksum: false)
            expected += 1
        }
        extents.append((location.file, cursor.offset))
        return extents
    }
}
