internal import Logging
internal import Synchronization
internal import SystemPackage

extension SegmentLog {
    /// Writes a batch and makes it durable (per `SyncMode`), then publishes the new head
    /// and returns it. The batch's first position must be the head + 1; on success the
    /// batch is emptied (keeping its buffer) for the next commit.
    ///
    /// Throws `.invalidArgument` for a batch that breaks the rules (nothing written),
    /// `.diskFull` when a new segment finds no space (nothing written; try again later),
    /// and `.stopped` after an I/O error, for this append and every later one.
    @discardableResult
    func append(_ batch: inout LogBatch) throws(StorageError) -> UInt64 {
        try writer.withLock { (state) throws(StorageError) -> UInt64 in
            if let stopped = state.stopped { throw stopped }
            guard !batch.isEmpty else { return state.head }
            try check(batch, head: state.head)
            let bytes = Int64(batch.bytes.count)
            try makeRoom(for: bytes, &state)
            guard var active = state.active else { throw .stopped("the log has no active segment") }
            if configuration.syncMode == .normal, active.unsyncedBytes + bytes > active.file.header.syncReachBytes {
                try sync(&active, &state)
            }
            batch.seal(startsSyncGroup: active.startsSyncGroup)
            do throws(Errno) {
                try batch.bytes.withBytes { (bytes) throws(Errno) in
                    try files.writeAll(active.file.descriptor, bytes, at: active.writeOffset)
                }
            } catch {
                throw failStop(&state, "cannot write to \(active.file.path) at byte offset \(active.writeOffset)", error)
            }
            switch configuration.syncMode {
            case .full:
                try sync(&active, &state)
            case .normal:
                active.unsyncedBytes += bytes
                active.startsSyncGroup = false
            }
            noteIndexEntries(of: batch, at: active.writeOffset, after: &active.lastIndexEntry, into: &state.newIndexEntries)
            active.writeOffset += bytes
            active.lastPosition = batch.lastPosition
            state.active = active
            state.head = batch.lastPosition
            let head = state.head
            published.withLock { published in
                published.head = head
                published.activeIndex.append(contentsOf: state.newIndexEntries)
            }
            state.newIndexEntries.removeAll(keepingCapacity: true)
            batch.removeAll()
            return head
        }
    }

    private func check(_ batch: LogBatch, head: UInt64) throws(StorageError) {
        guard batch.firstPosition == head + 1 else {
            throw .invalidArgument(
                "log positions must be consecutive: the log's head is \(head), the batch starts at \(batch.firstPosition)")
        }
        let capacity = configuration.segmentBytes - Int64(LogLimits.segmentHeaderBytes)
        guard batch.largestRecordBytes <= capacity else {
            throw .invalidArgument(
                "a log record of \(batch.largestRecordBytes) bytes does not fit a segment (\(capacity) bytes for records)")
        }
        guard batch.bytes.count <= configuration.syncReachBytes else {
            throw .invalidArgument(
                "a log batch of \(batch.bytes.count) bytes is more than the log writes between two syncs (\(configuration.syncReachBytes) bytes); split it"
            )
        }
    }

    /// Syncs the active segment; the next batch starts a sync group.
    private func sync(_ active: inout ActiveSegment, _ state: inout WriterState) throws(StorageError) {
        do {
            try metrics.timingSync { () throws(Errno) in try files.dataSync(active.file.descriptor) }
        } catch {
            throw failStop(&state, "fdatasync of \(active.file.path) failed", error)
        }
        active.unsyncedBytes = 0
        active.startsSyncGroup = true
    }

    /// Notes the batch's records in the sparse index: the entries due go to `entries`.
    private func noteIndexEntries(
        of batch: LogBatch, at start: Int64, after last: inout OffsetIndex.Entry?, into entries: inout [OffsetIndex.Entry]
    ) {
        batch.bytes.withUnsafeBytes { bytes in
            var offset = 0
            var position = batch.firstPosition
            while offset < bytes.count {
                let entry = OffsetIndex.Entry(position: position, offset: start + Int64(offset))
                if OffsetIndex.isDue(entry, after: last) {
                    entries.append(entry)
                    last = entry
                }
                let word = bytes.loadLittleEndian(at: offset, as: UInt32.self)
                offset += RecordFrame.paddedLength(Int(word & RecordFrame.lengthMask))
                position += 1
            }
        }
    }

    /// Makes sure the active segment can take `bytes` within its size and its sync reach:
    /// otherwise seals it and creates the next one, before any byte of the batch is written.
    private func makeRoom(for bytes: Int64, _ state: inout WriterState) throws(StorageError) {
        if let active = state.active,
            active.writeOffset + bytes <= active.file.header.segmentBytes,
            bytes <= active.file.header.syncReachBytes
        {
            return
        }
        var sealed: SealedSegment?
        if var active = state.active, !active.isEmpty {
            if active.unsyncedBytes > 0 { try sync(&active, &state) }
            state.active = active
            let index = published.withLock { $0.activeIndex }
            let contents = IndexFile.Contents(
                firstPosition: active.file.firstPosition, lastPosition: active.lastPosition,
                endOffset: active.writeOffset, index: index)
            let indexPath = directory.appending(SegmentFile.name(firstPosition: active.file.firstPosition, suffix: "idx"))
            IndexFile.write(contents, to: indexPath, files: files, logger: logger)
            sealed = SealedSegment(file: active.file, contents: contents)
        }
        // An empty active segment (written with another size or reach) is replaced: the
        // new one has the same name, and the rename swaps it in.
        let file = try createSegment(firstPosition: state.head + 1, &state)
        state.active = ActiveSegment(file: file, writeOffset: Int64(LogLimits.segmentHeaderBytes), lastPosition: state.head)
        published.withLock { published in
            if let sealed { published.sealed.append(sealed) }
            published.active = file
            published.activeIndex = OffsetIndex()
        }
    }

    /// Creates `<first>.seg`: preallocated, header written, fsynced under a temporary
    /// name, renamed into place, directory fsynced. Out of space is `.diskFull` and leaves
    /// nothing behind; any other error stops the writer.
    private func createSegment(firstPosition: UInt64, _ state: inout WriterState) throws(StorageError) -> SegmentFile {
        let header = SegmentHeader(
            firstPosition: firstPosition, segmentBytes: configuration.segmentBytes,
            syncReachBytes: configuration.syncReachBytes)
        let name = SegmentFile.name(firstPosition: firstPosition, suffix: "seg")
        let path = directory.appending(name)
        let temporary = directory.appending(name + ".tmp")
        var step = "create"
        var descriptor: FileDescriptor?
        do {
            let created = try files.openFile(temporary, .readWrite, options: [.create, .truncate, .closeOnExec])
            descriptor = created
            step = "preallocate"
            try files.allocate(created, bytes: header.segmentBytes)
            step = "write the header of"
            try header.encoded().withBytes { (page) throws(Errno) in try files.writeAll(created, page, at: 0) }
            step = "fsync"
            try files.sync(created)
            step = "rename into place"
            try files.rename(temporary, to: path)
            step = "fsync the directory of"
            try files.syncDirectory(directory)
            logger.debug("created a log segment", metadata: ["segment": "\(path)"])
            return SegmentFile(path: path, descriptor: created, header: header, files: files)
        } catch {
            if let descriptor { try? files.close(descriptor) }
            try? files.remove(temporary)
            guard error != .noSpace, error != .diskQuotaExceeded else {
                logger.info("no space for a new log segment", metadata: ["segment": "\(path)"])
                throw StorageError(
                    code: .diskFull,
                    message: "the disk is full: no room for a new log segment \(path) of \(header.segmentBytes) bytes; nothing of the batch was written",
                    cause: error)
            }
            throw failStop(&state, "cannot \(step) new log segment \(temporary)", error)
        }
    }
}
