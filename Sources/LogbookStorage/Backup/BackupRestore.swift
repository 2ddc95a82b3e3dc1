internal import Foundation
package import Logging
internal import SystemPackage

/// `logbookd restore BACKUP --data NEW`: a data directory made from a backup.
///
/// The backup is verified whole first (`BackupVerifier`), so a damaged one is refused
/// before anything is written. The target must be new or empty. Each file is copied and
/// synced, and each segment given its preallocated size again; then the store is opened
/// once, as the daemon would (recovery, the segments' offset indexes, the event-id filter
/// and the indexes behind the log rebuilt from the log), and its head checked against
/// the backup's position. A restore that fails removes what it wrote.
package enum BackupRestore {
    package struct Report: Sendable {
        package var manifest: BackupManifest
        package var recordsChecked: UInt64
        package var bytes: Int64
    }

    package static func restore(from backup: String, to data: String, logger: Logger) async throws -> Report {
        let verified = try BackupVerifier.verify(directory: backup)
        let manifest = verified.manifest
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let existed = files.fileExists(atPath: data, isDirectory: &isDirectory)
        if existed {
            guard isDirectory.boolValue else { throw StorageError.invalidArgument("\(data) is a file, not a directory") }
            let contents = try files.contentsOfDirectory(atPath: data)
            guard contents.isEmpty else {
                throw StorageError.invalidArgument(
                    "\(data) is not empty (\(contents.count) entries); a restore goes into a new or empty directory")
            }
        }
        do {
            try copy(manifest, from: backup, to: data)
            let store = try EventStore(
                directory: data, sync: .full, logger: logger, engine: StorageEngine(rawValue: manifest.engine))
            let head = store.headPosition
            await store.close()
            guard head == manifest.position else {
                throw StorageError.corrupt("the restored store ends at position \(head), the backup's at \(manifest.position)")
            }
        } catch {
            // What was written is no store anyone should open.
            if existed {
                for name in (try? files.contentsOfDirectory(atPath: data)) ?? [] {
                    try? files.removeItem(atPath: data + "/" + name)
                }
            } else {
                try? files.removeItem(atPath: data)
            }
            throw error
        }
        return Report(manifest: manifest, recordsChecked: verified.recordsChecked, bytes: verified.bytes)
    }

    /// Every file of the manifest into `data`, synced, segments at their restored size;
    /// then the directories synced.
    private static func copy(_ manifest: BackupManifest, from backup: String, to data: String) throws {
        let operations = SystemFileOperations()
        // The log folder is what marks a log-engine directory, even one with no segment.
        let isLog = manifest.engine == StorageEngine.log.rawValue
        try FileManager.default.createDirectory(
            atPath: isLog ? data + "/" + StorageEngine.logFolder : data, withIntermediateDirectories: true)
        var buffer = [UInt8](repeating: 0, count: StorageLimits.backupChunkBytes)
        for file in manifest.files {
            let source = try FileDescriptor.open(backup + "/" + file.path, .readOnly, options: [.closeOnExec])
            defer { try? source.close() }
            let target = try operations.openFile(
                FilePath(data + "/" + file.path), .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec])
            defer { try? operations.close(target) }
            var offset: Int64 = 0
            while offset < file.bytes {
                let count = try buffer.withUnsafeMutableBytes { buffer in
                    try operations.readFully(source, into: buffer, at: offset)
                }
                guard count > 0 else { break }
                try buffer.withUnsafeBytes { buffer in
                    try operations.writeAll(target, UnsafeRawBufferPointer(rebasing: buffer[..<count]), at: offset)
                }
                offset += Int64(count)
            }
            if let restored = file.restoredBytes, restored > file.bytes {
                try operations.allocate(target, bytes: restored)
            }
            try operations.sync(target)
        }
        if isLog {
            try operations.syncDirectory(FilePath(data + "/" + StorageEngine.logFolder))
        }
        try operations.syncDirectory(FilePath(data))
    }
}
