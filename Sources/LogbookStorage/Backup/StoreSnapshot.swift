internal import SystemPackage

/// A consistent copy of a data directory at one position, read file by file to be sent
/// to `logbook backup`.
///
/// - `logbook.sqlite`: a copy of the database made with `VACUUM INTO` in one read
///   transaction: groups, settlements, parked events and views as of one moment, and (for
///   the SQLite engine) the events. The copy is unlinked as soon as it is open, so nothing
///   is left behind whatever happens to the backup.
/// - `log/<first>.seg` (log engine): every segment holding a position up to `position`, up
///   to the end of the last record at or below it. `position` is the log's published
///   head read after the database copy, so nothing in that copy refers past it; the bytes
///   below a published head are durable and never written again.
package final class StoreSnapshot: Sendable {
    package struct File: Sendable {
        /// The path inside the backup (and inside a data directory).
        package var path: String
        /// The bytes the backup holds.
        package var bytes: Int64
        /// The size a restore gives the file (a segment is preallocated); nil: `bytes`.
        package var restoredBytes: Int64?
        fileprivate var source: Source
    }

    fileprivate enum Source: Sendable {
        case database(CInt)
        case segment(SegmentFile)
    }

    /// Every event up to here is in the snapshot, and none after it.
    package let position: UInt64
    package let engine: StorageEngine
    /// The database's schema version (`PRAGMA user_version`).
    package let schemaVersion: Int
    /// In the order a restore needs none of: the database first, then the segments by position.
    package let files: [File]
    private let databaseDescriptor: CInt

    init(position: UInt64, engine: StorageEngine, schemaVersion: Int, database: FileDescriptor, databaseBytes: Int64, segments: [(SegmentFile, Int64)]) {
        self.position = position
        self.engine = engine
        self.schemaVersion = schemaVersion
        self.databaseDescriptor = database.rawValue
        var files = [File(path: Schema.fileName, bytes: databaseBytes, source: .database(database.rawValue))]
        for (segment, bytes) in segments {
            files.append(File(
                path: StorageEngine.logFolder + "/" + SegmentFile.name(firstPosition: segment.firstPosition, suffix: "seg"),
                bytes: bytes, restoredBytes: segment.header.segmentBytes, source: .segment(segment)))
        }
        self.files = files
    }

    deinit {
        try? FileDescriptor(rawValue: self.databaseDescriptor).close()
    }

    /// Reads up to `buffer.count` bytes of `file` at `offset`, never past its `bytes`.
    package func read(_ file: File, at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(StorageError) -> Int {
        let count = Int(max(0, min(Int64(buffer.count), file.bytes - offset)))
        let wanted = UnsafeMutableRawBufferPointer(rebasing: buffer[..<count])
        switch file.source {
        case .segment(let segment):
            let read = try segment.read(into: wanted, at: offset)
            guard read == count else { throw .corrupt("log segment \(segment.path) ends at \(offset + Int64(read)), before the \(file.bytes) bytes it held") }
            return read
        case .database(let descriptor):
            do {
                let read = try SystemFileOperations().readFully(FileDescriptor(rawValue: descriptor), into: wanted, at: offset)
                guard read == count else { throw Errno.ioError }
                return read
            } catch {
                throw StorageError(code: .internalError, message: "cannot read the database copy of a backup: \(error)", cause: error)
            }
        }
    }
}
