internal import Logging
internal import SystemPackage

/// Opens the segments of a log and decides, segment by segment, what is there: the
/// sealed ones from their index files, the active (last) one by a scan.
///
/// See `SegmentLog` for the rule it applies to the active segment's tail.
struct LogRecovery {
    /// The active segment as recovery left it.
    struct Active {
        var file: SegmentFile
        var index: OffsetIndex
        var writeOffset: Int64
        var lastPosition: UInt64
    }

    /// What the log holds.
    struct Outcome {
        var sealed: [SealedSegment] = []
        var active: Active?
        var head: UInt64 { active?.lastPosition ?? sealed.last?.lastPosition ?? 0 }
    }

    var directory: FilePath
    var knownDurablePosition: UInt64
    var files: any LogFileOperations
    var logger: Logger

    func run() throws(StorageError) -> Outcome {
        var segments = [UInt64]()
        var indexFiles = Set<UInt64>()
        let names = try io("list the log directory", directory) { () throws(Errno) in try files.contentsOfDirectory(directory) }
        for name in names {
            if name.hasSuffix(".seg.tmp") {
                // A segment whose creation did not finish: it never held a record.
                try io("remove", directory.appending(name)) { () throws(Errno) in try files.remove(directory.appending(name)) }
                logger.info("removed an unfinished log segment", metadata: ["file": "\(name)"])
            } else if let first = SegmentFile.firstPosition(fromName: name, suffix: "seg") {
                segments.append(first)
            } else if let first = SegmentFile.firstPosition(fromName: name, suffix: "idx") {
                indexFiles.insert(first)
            }
        }
        segments.sort()
        var outcome = Outcome()
        for (number, first) in segments.enumerated() {
            if number + 1 < segments.count {
                let file = try openSegment(firstPosition: first, writable: false)
                outcome.sealed.append(
                    try loadSealed(file, lastPosition: segments[number + 1] - 1, hasIndexFile: indexFiles.contains(first)))
            } else {
                let file = try openSegment(firstPosition: first, writable: true)
                if indexFiles.contains(first) {
                    // Left by a roll that could not create the next segment; the active
                    // segment is scanned, and gets a fresh index file when it is sealed.
                    let path = directory.appending(SegmentFile.name(firstPosition: first, suffix: "idx"))
                    try io("remove", path) { () throws(Errno) in try files.remove(path) }
                }
                outcome.active = try recoverActive(file)
            }
        }
        guard knownDurablePosition <= outcome.head else {
            throw .corrupt(
                "the log in \(directory) ends at position \(outcome.head), but position \(knownDurablePosition) was acknowledged as durable"
            )
        }
        return outcome
    }

    private func openSegment(firstPosition: UInt64, writable: Bool) throws(StorageError) -> SegmentFile {
        let path = directory.appending(SegmentFile.name(firstPosition: firstPosition, suffix: "seg"))
        let descriptor = try io("open", path) { () throws(Errno) in
            try files.openFile(path, writable ? .readWrite : .readOnly, options: [.closeOnExec])
        }
        var page = [UInt8](repeating: 0, count: LogLimits.segmentHeaderBytes)
        let decoded: Result<SegmentHeader, SegmentHeader.Problem>
        let size: Int64
        do {
            let count = try page.withMutableBytes { (page) throws(Errno) -> Int in
                try files.readFully(descriptor, into: page, at: 0)
            }
            decoded = page.withUnsafeBytes { SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            size = try files.size(of: descriptor)
        } catch {
            try? files.close(descriptor)
            throw StorageError(code: .internalError, message: "cannot read log segment \(path): \(error)", cause: error)
        }
        let header: SegmentHeader
        switch decoded {
        case .success(let decoded):
            header = decoded
        case .failure(.newerVersion(let version)):
            try? files.close(descriptor)
            throw StorageError(
                code: .unsupportedSchema,
                message: "log segment \(path) has format version \(version): it was written by a newer Logbook")
        case .failure(.damaged(let reason)):
            try? files.close(descriptor)
            throw .corrupt("log segment \(path) is damaged at byte offset 0: \(reason)")
        }
        let file = SegmentFile(path: path, descriptor: descriptor, header: header, files: files)
        guard header.firstPosition == firstPosition else {
            throw file.damaged(at: 16, "the header says first position \(header.firstPosition), the name \(firstPosition)")
        }
        guard size >= header.segmentBytes else {
            throw file.damaged(at: size, "the file is \(size) bytes, its header says \(header.segmentBytes)")
        }
        return file
    }

    /// A sealed segment from its index file, or from a scan when that file is missing,
    /// damaged, or disagrees with where the next segment starts.
    private func loadSealed(_ file: SegmentFile, lastPosition: UInt64, hasIndexFile: Bool) throws(StorageError) -> SealedSegment {
        let indexPath = directory.appending(SegmentFile.name(firstPosition: file.firstPosition, suffix: "idx"))
        var problem = "it is missing"
        if hasIndexFile {
            switch readIndexFile(indexPath, segment: file.header) {
            case .success(let contents) where contents.lastPosition == lastPosition:
                return SealedSegment(file: file, contents: contents)
            case .success(let contents):
                problem = "it ends at position \(contents.lastPosition), the next segment starts at \(lastPosition + 1)"
            case .failure(let reason):
                problem = reason.description
            }
        }
        logger.notice(
            "rebuilding a log segment's offset index by scanning the segment",
            metadata: ["segment": "\(file.path)", "reason": "\(problem)"])
        let contents = try file.scanSealed(lastPosition: lastPosition)
        IndexFile.write(contents, to: indexPath, files: files, logger: logger)
        return SealedSegment(file: file, contents: contents)
    }

    private func readIndexFile(_ path: FilePath, segment: SegmentHeader) -> Result<IndexFile.Contents, IndexFile.Problem> {
        do {
            let descriptor = try files.openFile(path, .readOnly, options: [.closeOnExec])
            defer { try? files.close(descriptor) }
            let size = try files.size(of: descriptor)
            // An index has at most one entry per record; anything larger is not one.
            guard size <= Int64(IndexFile.headerBytes) + segment.capacity else { return .failure(IndexFile.Problem(description: "too large")) }
            var bytes = [UInt8](repeating: 0, count: Int(size))
            let count = try bytes.withMutableBytes { (bytes) throws(Errno) -> Int in
                try files.readFully(descriptor, into: bytes, at: 0)
            }
            return bytes.withUnsafeBytes { IndexFile.decode(UnsafeRawBufferPointer(rebasing: $0[..<count]), segment: segment) }
        } catch {
            return .failure(IndexFile.Problem(description: "cannot read it: \(error)"))
        }
    }

    /// Scans the active segment and applies the recovery rule to what follows its last
    /// valid record: cut a torn tail, refuse anything else.
    private func recoverActive(_ file: SegmentFile) throws(StorageError) -> Active {
        let scan = try file.scanActive()
        let stop = scan.stop
        let tail = try file.inspectTail(from: stop.offset, positionsAbove: scan.committedPosition)
        let found = stop.damage ?? "the records end here"
        if let later = tail.records.first(where: { $0.header.startsSyncGroup }) {
            throw file.damaged(
                at: stop.offset,
                "\(found), but a valid record of a later group commit (position \(later.header.position)) follows at byte offset \(later.offset), so these bytes had been synced"
            )
        }
        let reach = file.header.syncReachBytes
        if let far = tail.records.first(where: { $0.offset + Int64($0.header.paddedLength) > stop.offset + reach }) {
            throw file.damaged(
                at: stop.offset,
                "\(found), but a valid record (position \(far.header.position)) follows at byte offset \(far.offset), further than one group commit (\(reach) bytes) writes"
            )
        }
        if knownDurablePosition > scan.committedPosition, knownDurablePosition >= file.firstPosition {
            throw file.damaged(
                at: stop.damage == nil ? scan.committedEnd : stop.offset,
                "\(found); the whole batches end at position \(scan.committedPosition), but position \(knownDurablePosition) was acknowledged as durable"
            )
        }
        if scan.committedEnd < tail.damageEnd {
            logger.notice(
                "cutting the torn tail of the log: bytes never acknowledged",
                metadata: [
                    "segment": "\(file.path)", "from_offset": "\(scan.committedEnd)", "to_offset": "\(tail.damageEnd)",
                    "last_position": "\(scan.committedPosition)", "found": "\(found)",
                ])
            try file.zero(scan.committedEnd..<tail.damageEnd)
        } else {
            // The previous process may have left unsynced bytes (`SyncMode.normal`): sync
            // them now, so the next write's "sync start" flag tells the truth.
            do {
                try files.dataSync(file.descriptor)
            } catch {
                throw StorageError(code: .stopped, message: "cannot sync log segment \(file.path): \(error)", cause: error)
            }
        }
        var index = scan.index
        index.removeEntries(after: scan.committedPosition)
        return Active(file: file, index: index, writeOffset: scan.committedEnd, lastPosition: scan.committedPosition)
    }

    /// Runs one file system call, turning its error into a `StorageError` naming `path`.
    private func io<Result>(_ what: String, _ path: FilePath, _ body: () throws(Errno) -> Result) throws(StorageError) -> Result {
        do {
            return try body()
        } catch {
            throw StorageError(code: .internalError, message: "cannot \(what) \(path): \(error)", cause: error)
        }
    }
}
