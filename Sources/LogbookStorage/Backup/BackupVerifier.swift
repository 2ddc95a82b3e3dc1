internal import Foundation
internal import GRDB
internal import SystemPackage

/// Checks a backup directory before anyone relies on it (`logbook backup --verify`, and
/// `logbookd restore` before it copies a byte):
/// - every file the manifest lists is there, with its size and CRC32C;
/// - the database passes `PRAGMA integrity_check`, is a Logbook database, and has the
///   manifest's schema version, one this build can open;
/// - every record of every segment has its CRC, the positions run on from one segment to
///   the next with no gap, each segment ends a batch, and the last record is the
///   manifest's position.
package enum BackupVerifier {
    package struct Report: Sendable {
        package var manifest: BackupManifest
        /// Log records read and checked (0 for the SQLite engine, whose events are rows).
        package var recordsChecked: UInt64
        package var bytes: Int64
    }

    package static func verify(directory: String) throws(StorageError) -> Report {
        let manifest = try BackupManifest.read(from: directory)
        var bytes: Int64 = 0
        for file in manifest.files {
            guard BackupManifest.isAllowed(file.path) else {
                throw .corrupt("the manifest of \(directory) lists \(file.path), which is no file of a backup")
            }
            bytes += try checkFile(directory + "/" + file.path, file)
        }
        guard manifest.files.contains(where: { $0.path == Schema.fileName }) else {
            throw .corrupt("the manifest of \(directory) lists no \(Schema.fileName)")
        }
        let databaseHead = try checkDatabase(directory + "/" + Schema.fileName, manifest: manifest)
        var records: UInt64 = 0
        switch StorageEngine(rawValue: manifest.engine) {
        case .log:
            guard databaseHead <= manifest.position else {
                throw .corrupt("the backup's database holds position \(databaseHead), past the backup's position \(manifest.position)")
            }
            records = try checkSegments(directory, manifest: manifest)
        case .sqlite:
            guard databaseHead == manifest.position else {
                throw .corrupt("the backup's database ends at position \(databaseHead), its manifest says \(manifest.position)")
            }
        case nil:
            throw .invalidArgument("the backup in \(directory) is of engine \(manifest.engine), which this Logbook does not know")
        }
        return Report(manifest: manifest, recordsChecked: records, bytes: bytes)
    }

    /// The file's size and CRC32C against the manifest's; its size.
    private static func checkFile(_ path: String, _ file: BackupManifest.File) throws(StorageError) -> Int64 {
        var crc: UInt32 = 0
        var size: Int64 = 0
        do {
            let descriptor = try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
            defer { try? descriptor.close() }
            var buffer = [UInt8](repeating: 0, count: StorageLimits.backupChunkBytes)
            while true {
                let count = try buffer.withUnsafeMutableBytes { try descriptor.read(fromAbsoluteOffset: size, into: $0) }
                if count == 0 { break }
                crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<count]), extending: crc) }
                size += Int64(count)
            }
        } catch Errno.noSuchFileOrDirectory {
            throw .corrupt("\(path) is missing from the backup")
        } catch {
            throw StorageError(code: .internalError, message: "cannot read \(path): \(error)", cause: error)
        }
        guard size == file.bytes else {
            throw .corrupt("\(path) is \(size) bytes; the backup's manifest says \(file.bytes)")
        }
        guard crc == file.crc32c else {
            throw .corrupt("\(path) does not have the CRC32C the backup's manifest gives (its bytes changed since the backup)")
        }
        return size
    }

    /// Integrity, application id and schema version; the database's head position.
    private static func checkDatabase(_ path: String, manifest: BackupManifest) throws(StorageError) -> UInt64 {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "logbook.verify"
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                guard applicationID == Schema.applicationID else {
                    throw StorageError.corrupt("\(path) is not a Logbook database (application id \(applicationID))")
                }
                guard version == manifest.schemaVersion else {
                    throw StorageError.corrupt("\(path) has schema version \(version); the backup's manifest says \(manifest.schemaVersion)")
                }
                guard version <= Schema.version else {
                    throw StorageError(
                        code: .unsupportedSchema,
                        message: "\(path) has schema version \(version), from a newer Logbook; this one knows up to \(Schema.version)")
                }
                let problems = try String.fetchAll(db, sql: "PRAGMA integrity_check(\(StorageLimits.integrityProblemsReported))")
                guard problems == ["ok"] else {
                    throw StorageError.corrupt("\(path) failed its integrity check: \(problems.joined(separator: "; "))")
                }
                let head = try Int64.fetchOne(db, sql: Schema.SQL.loadHead) ?? 0
                return try WriterState.checkedUnsigned(head, what: "position")
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw .corrupt("\(path) is not a usable Logbook database: \(error)", cause: error)
        }
    }

    /// Every record of every segment, in order; the records checked.
    private static func checkSegments(_ directory: String, manifest: BackupManifest) throws(StorageError) -> UInt64 {
        let segments = manifest.files.compactMap { file -> (first: UInt64, path: String)? in
            let name = String(file.path.split(separator: "/").last ?? "")
            return SegmentFile.firstPosition(fromName: name, suffix: "seg").map { ($0, directory + "/" + file.path) }
        }.sorted { $0.first < $1.first }
        guard !segments.isEmpty else {
            guard manifest.position == 0 else {
                throw .corrupt("the backup holds no log segment; its manifest says position \(manifest.position)")
            }
            return 0
        }
        var checked: UInt64 = 0
        for (index, segment) in segments.enumerated() {
            // Each runs up to where the next one starts; the last up to the backup's position.
            let next = index + 1 < segments.count ? segments[index + 1].first : manifest.position + 1
            guard next > segment.first else {
                throw .corrupt("log segment \(segment.path) holds no position below \(next), where the backup's log goes on")
            }
            try scan(segment.path, firstPosition: segment.first, lastPosition: next - 1)
            checked += next - segment.first
        }
        return checked
    }

    /// Reads a segment as a backup holds it, checked as a sealed segment is: every record,
    /// `firstPosition` to `lastPosition`, the last one ending a batch, and then the file's end.
    private static func scan(_ path: String, firstPosition: UInt64, lastPosition: UInt64) throws(StorageError) {
        let files = SystemFileOperations()
        let descriptor: FileDescriptor
        let decoded: Result<SegmentHeader, SegmentHeader.Problem>
        let size: Int64
        do throws(Errno) {
            descriptor = try files.openFile(FilePath(path), .readOnly, options: [.closeOnExec])
            var page = [UInt8](repeating: 0, count: LogLimits.segmentHeaderBytes)
            let count = try page.withMutableBytes { (page) throws(Errno) -> Int in try files.readFully(descriptor, into: page, at: 0) }
            size = try files.size(of: descriptor)
            decoded = page.withUnsafeBytes { SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        } catch {
            throw StorageError(code: .internalError, message: "cannot read \(path): \(error)", cause: error)
        }
        guard case .success(let header) = decoded else {
            try? files.close(descriptor)
            throw .corrupt("log segment \(path) has a bad header: \(decoded)")
        }
        let file = SegmentFile(path: FilePath(path), descriptor: descriptor, header: header, files: files)
        guard file.firstPosition == firstPosition else {
            throw file.damaged(at: 16, "the header says first position \(file.firstPosition), the name \(firstPosition)")
        }
        let contents = try file.scanSealed(lastPosition: lastPosition, end: size)
        guard contents.endOffset == size else {
            throw file.damaged(at: contents.endOffset, "the records end before the file does, at \(size) bytes")
        }
    }
}
