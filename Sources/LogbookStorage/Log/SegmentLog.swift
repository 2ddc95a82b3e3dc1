internal import Logging
internal import Synchronization
internal import SystemPackage

/// The append-only truth of the log engine: records in preallocated segment files, one
/// `pwritev` and one `fdatasync` per group commit.
///
/// ## Files
/// `<data>/log/<first position, 20 digits>.seg` holds a header page (`SegmentHeader`)
/// and then records (`RecordFrame`) in consecutive positions. Each segment is created
/// under a temporary name, preallocated, given its header, fsynced, renamed into place
/// and its directory fsynced, all before any record goes into it. A segment is sealed
/// when the next batch does not fit it: it is synced, its sparse offset index is written
/// to `<first>.idx` (`IndexFile`), and only then is the next segment created, so every
/// segment but the last (the active one) was whole on disk before its successor existed.
/// A batch never spans two segments; the space it leaves at the end of one stays zeros.
///
/// ## Writing
/// One writer at a time (`append` holds a lock for the whole commit). A batch comes
/// framed (`LogBatch`); its positions must continue the log's head. It is written with
/// one `pwritev`, synced with one `fdatasync` under `SyncMode.full` (under `.normal` the
/// writer syncs only before unsynced bytes would pass the segment's sync reach, and at
/// rolls and on close, so a power loss may lose the last moments), and only then is the
/// new head published to readers. An error from a write or a sync stops the writer for
/// good (fail-stop): the kernel may have dropped the pages, so retrying could report
/// success for bytes that are not on disk. Running out of space while creating a segment
/// fails only that batch (`.diskFull`, nothing written) and the next append tries again.
///
/// ## Reading
/// Any thread, concurrently with the writer, with `pread` only, never past the
/// published head. A position is found through the sparse offset index of its segment;
/// every record read is checked (CRC and position) before its payload is returned.
///
/// ## Recovery
/// Opening reads the sealed segments' index files (a missing or damaged one is rebuilt by
/// scanning its segment) and scans the active segment from its start to the first bytes
/// that are not a valid record in the next position: a zero length word is the clean
/// end of a preallocated file. Then, over the rest of the active segment:
/// - a torn tail, bytes never acknowledged, is cut: everything after the last record that
///   ends a batch, up to the last non-zero byte, is overwritten with zeros and synced.
///   That keeps or drops each batch whole (a batch that was only partly written was never
///   acknowledged) and leaves no stale record for a later scan to pick up.
/// - The open is refused with `.corrupt` (DATA_LOSS), naming the segment file and the
///   byte offset, when the bytes there cannot be a torn write:
///   - a valid record further on carries the "sync start" flag: a later group commit was
///     written, so the damaged bytes had been synced before it;
///   - a valid record ends further on than one group commit writes (the segment's sync
///     reach, `LogLimits.syncReachBytesDefault`);
///   - the damage, or the clean end, is at or below `knownDurablePosition`, which the
///     caller knows was acknowledged;
///   - a valid record in the wrong position (a gap or a repeat), a bad header, or any bad
///     record in a sealed segment (sealed segments are synced before their successor
///     exists).
///   Nothing is ever skipped silently.
///
/// The one ambiguity no log can remove: damage inside the very last group commit (a
/// flipped byte, a lost sector) looks exactly like a torn write of it, so that batch is
/// cut. It is safe only when that batch was never acknowledged, which is why the caller
/// passes `knownDurablePosition`: damage at or below it is refused instead.
final class SegmentLog: Sendable {
    /// `<data>/log`.
    let directory: FilePath
    let configuration: LogConfiguration
    let files: any LogFileOperations
    let logger: Logger
    /// Times each `fdatasync` (`logbook_fsync_duration_seconds{store="log"}`).
    let metrics = CommitMetrics(store: StorageEngine.log.rawValue)

    /// What readers see; the writer changes it only after a commit is durable.
    let published: Mutex<Published>
    /// The writer's own state, held for the whole of a commit.
    let writer: Mutex<WriterState>

    struct Published: Sendable {
        var head: UInt64
        var sealed: [SealedSegment]
        var active: SegmentFile?
        var activeIndex: OffsetIndex
    }

    struct WriterState: Sendable {
        var head: UInt64
        var active: ActiveSegment?
        /// Set once the writer stops (fail-stop or close); every later append fails with it.
        var stopped: StorageError?
        /// The index entries of the batch being committed, published with its head; kept
        /// to reuse its buffer.
        var newIndexEntries: [OffsetIndex.Entry] = []
    }

    /// The segment the writer appends to.
    struct ActiveSegment: Sendable {
        var file: SegmentFile
        /// Where the next record goes.
        var writeOffset: Int64
        /// The last record's position; the first position - 1 while the segment is empty.
        var lastPosition: UInt64
        var unsyncedBytes: Int64 = 0
        /// Whether the next batch follows a sync (its first record gets the flag).
        var startsSyncGroup = true
        var lastIndexEntry: OffsetIndex.Entry?

        var isEmpty: Bool { lastPosition < file.firstPosition }
    }

    /// Opens (or creates) the log under `dataDirectory` and recovers it (see the type's
    /// documentation). `knownDurablePosition`: every position up to it was acknowledged
    /// as durable (for example what the indexes already cover); damage at or below it is
    /// refused, never cut. Under `SyncMode.normal` pass only what was synced.
    static func open(
        dataDirectory: FilePath,
        configuration: LogConfiguration,
        knownDurablePosition: UInt64,
        files: any LogFileOperations = SystemFileOperations(),
        logger: Logger
    ) throws(StorageError) -> SegmentLog {
        let directory = dataDirectory.appending("log")
        do {
            if try files.createDirectory(directory) {
                try files.syncDirectory(dataDirectory)
            }
        } catch {
            throw StorageError(code: .internalError, message: "cannot create the log directory \(directory): \(error)", cause: error)
        }
        let outcome = try LogRecovery(
            directory: directory, knownDurablePosition: knownDurablePosition, files: files, logger: logger
        ).run()
        return SegmentLog(directory: directory, configuration: configuration, files: files, logger: logger, outcome: outcome)
    }

    private init(
        directory: FilePath, configuration: LogConfiguration, files: any LogFileOperations, logger: Logger,
        outcome: LogRecovery.Outcome
    ) {
        self.directory = directory
        self.configuration = configuration
        self.files = files
        self.logger = logger
        let head = outcome.head
        published = Mutex(
            Published(
                head: head, sealed: outcome.sealed, active: outcome.active?.file,
                activeIndex: outcome.active?.index ?? OffsetIndex()))
        writer = Mutex(
            WriterState(
                head: head,
                active: outcome.active.map { active in
                    ActiveSegment(
                        file: active.file, writeOffset: active.writeOffset, lastPosition: active.lastPosition,
                        lastIndexEntry: active.index.entries.last)
                }))
    }

    /// The last durable position (0 for an empty log): what readers may read up to.
    var headPosition: UInt64 {
        published.withLock { $0.head }
    }

    /// The first position the log holds (1 for a log that has never dropped a segment).
    var firstPosition: UInt64 {
        published.withLock { state in state.sealed.first?.file.firstPosition ?? state.active?.firstPosition ?? 1 }
    }

    /// Syncs what is unsynced and refuses every later append. Reads go on.
    func close() throws(StorageError) {
        try writer.withLock { (state) throws(StorageError) in
            guard state.stopped == nil else { return }
            state.stopped = .stopped("the log is closed")
            if let active = state.active, active.unsyncedBytes > 0 {
                do throws(Errno) {
                    try files.dataSync(active.file.descriptor)
                } catch {
                    throw failStop(&state, "cannot sync \(active.file.path) on close", error)
                }
            }
        }
    }

    /// Reads every record of every segment and checks it, the sealed ones against their
    /// index (an open reads only index files and the active segment).
    func verify() throws(StorageError) {
        let (active, head) = published.withLock { ($0.active, $0.head) }
        try verifySealed { true }
        guard let active else { return }
        var cursor = RecordCursor(file: active, offset: Int64(LogLimits.segmentHeaderBytes))
        var expected = active.firstPosition
        while expected <= head {
            let offset = cursor.offset
            guard case .record(let header, _) = try cursor.next(), header.position == expected else {
                throw active.damaged(at: offset, "record \(expected) is not there or not valid")
            }
            expected += 1
        }
    }

    /// Reads every record of the segments sealed when it is called and checks each
    /// against its index, asking `continuing` before each segment (so a closing store can
    /// stop it). An open does not read sealed segments, so a start costs what the indexes
    /// lack, not the log's size; the daemon runs this behind the start instead.
    func verifySealed(continuing: () -> Bool) throws(StorageError) {
        let sealed = published.withLock { $0.sealed }
        for segment in sealed where continuing() {
            let contents = try segment.file.scanSealed(lastPosition: segment.lastPosition)
            guard contents.endOffset == segment.endOffset, contents.index == segment.index else {
                throw .corrupt("the offset index of log segment \(segment.file.path) does not match its records")
            }
        }
    }

    /// Stops the writer for good after an I/O error, and returns the error every append
    /// gets from now on.
    func failStop(_ state: inout WriterState, _ what: String, _ error: Errno) -> StorageError {
        let reason = "the log writer stopped after an I/O error (\(what): \(error)); appends are refused until the log is reopened"
        logger.error("log writer fail-stop", metadata: ["reason": "\(reason)"])
        let stopped = StorageError(code: .stopped, message: reason, cause: error)
        state.stopped = stopped
        return stopped
    }
}

/// A segment the writer has moved past: whole on disk, never written again.
struct SealedSegment: Sendable {
    var file: SegmentFile
    var lastPosition: UInt64
    /// Where its last record ends.
    var endOffset: Int64
    var index: OffsetIndex

    init(file: SegmentFile, contents: IndexFile.Contents) {
        self.file = file
        self.lastPosition = contents.lastPosition
        self.endOffset = contents.endOffset
        self.index = contents.index
    }
}
