internal import Logbook
internal import LogbookCommandLine
internal import LogbookStorage

#if canImport(FoundationEssentials)
internal import FoundationEssentials
#else
internal import Foundation
#endif
#if canImport(Glibc)
internal import Glibc
#endif

/// Writes a backup's files into a directory as their chunks arrive, and the manifest last,
/// once every file is synced and matches the size and CRC32C the daemon sent.
///
/// A directory without `manifest.json` is a backup that did not finish; one that fails
/// here is removed (what this writer made of it).
struct BackupWriter {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct Written {
        var bytes: UInt64 = 0
        var crc: UInt32 = 0
    }

    let directory: String
    private let createdDirectory: Bool
    private var open: (path: String, descriptor: Int32)?
    private var written: [String: Written] = [:]
    private var order: [String] = []
    private var madeLogFolder = false

    /// The target must not exist (it is made, mode 700) or be an empty directory.
    init(directory: String) throws(Failure) {
        self.directory = directory
        if let entries = Self.entries(directory) {
            guard entries.isEmpty else {
                throw Failure(description: "\(directory) is not empty; a backup goes into a new or empty directory")
            }
            self.createdDirectory = false
        } else {
            guard mkdir(directory, 0o700) == 0 else { throw Self.failure("cannot create \(directory)") }
            self.createdDirectory = true
        }
    }

    /// Writes one chunk; a file's chunks must come in order, from offset 0.
    mutating func write(path: String, offset: UInt64, bytes: [UInt8]) throws(Failure) {
        guard LogbookStorage.BackupManifest.isAllowed(path) else {
            throw Failure(description: "the daemon sent a file named \(path), which no backup holds")
        }
        if self.open?.path != path {
            try self.closeOpenFile()
            guard self.written[path] == nil else { throw Failure(description: "the daemon sent \(path) twice") }
            if path.hasPrefix(StorageEngine.logFolder + "/"), !self.madeLogFolder {
                guard mkdir(self.directory + "/" + StorageEngine.logFolder, 0o700) == 0 else {
                    throw Self.failure("cannot create \(self.directory)/\(StorageEngine.logFolder)")
                }
                self.madeLogFolder = true
            }
            let descriptor = Glibc.open(self.directory + "/" + path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Self.failure("cannot create \(self.directory)/\(path)") }
            self.open = (path, descriptor)
            self.written[path] = Written()
            self.order.append(path)
        }
        guard let descriptor = self.open?.descriptor, var file = self.written[path], offset == file.bytes else {
            throw Failure(description: "the daemon sent \(path) out of order (offset \(offset))")
        }
        var done = 0
        while done < bytes.count {
            let count = bytes[done...].withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset) + off_t(done)) }
            guard count > 0 else { throw Self.failure("cannot write \(self.directory)/\(path)") }
            done += count
        }
        file.crc = CRC32C.checksum(bytes, extending: file.crc)
        file.bytes += UInt64(bytes.count)
        self.written[path] = file
    }

    /// Checks every file against `manifest`, then writes `manifest.json` and syncs the
    /// directories; returns what it wrote.
    mutating func finish(_ manifest: Logbook.BackupManifest) throws(Failure) -> LogbookStorage.BackupManifest {
        try self.closeOpenFile()
        guard Set(manifest.files.map(\.path)) == Set(self.order) else {
            throw Failure(description: "the daemon's manifest lists other files than it sent")
        }
        for file in manifest.files {
            let got = self.written[file.path] ?? Written()
            guard got.bytes == file.bytes, got.crc == file.crc32c else {
                throw Failure(description: "\(file.path) arrived with \(got.bytes) bytes and another CRC32C than the daemon read")
            }
        }
        let stored = LogbookStorage.BackupManifest(
            position: manifest.position, engine: manifest.engine, schemaVersion: manifest.schemaVersion,
            serverVersion: manifest.serverVersion, created: RFC3339.string(unixMicros: Int64(manifest.created.timeIntervalSince1970 * 1_000_000)),
            files: manifest.files.map {
                .init(path: $0.path, bytes: Int64($0.bytes), crc32c: $0.crc32c, restoredBytes: $0.restoredBytes.map(Int64.init))
            })
        let bytes: [UInt8]
        do {
            bytes = try stored.encoded()
        } catch {
            throw Failure(description: "cannot encode the manifest: \(error)")
        }
        if self.madeLogFolder {
            try self.syncDirectory(self.directory + "/" + StorageEngine.logFolder)
        }
        let temporary = self.directory + "/" + LogbookStorage.BackupManifest.fileName + ".tmp"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("cannot create \(temporary)") }
        let complete = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) } == bytes.count && fsync(descriptor) == 0
        Glibc.close(descriptor)
        guard complete, rename(temporary, self.directory + "/" + LogbookStorage.BackupManifest.fileName) == 0 else {
            throw Self.failure("cannot write \(self.directory)/\(LogbookStorage.BackupManifest.fileName)")
        }
        try self.syncDirectory(self.directory)
        return stored
    }

    /// Removes what this writer made: after a failure, nothing is left that looks like a backup.
    mutating func abandon() {
        if let open = self.open { Glibc.close(open.descriptor) }
        self.open = nil
        for path in self.order { unlink(self.directory + "/" + path) }
        unlink(self.directory + "/" + LogbookStorage.BackupManifest.fileName + ".tmp")
        if self.madeLogFolder { rmdir(self.directory + "/" + StorageEngine.logFolder) }
        if self.createdDirectory { rmdir(self.directory) }
    }

    private mutating func closeOpenFile() throws(Failure) {
        guard let open = self.open else { return }
        self.open = nil
        let synced = fsync(open.descriptor) == 0
        Glibc.close(open.descriptor)
        guard synced else { throw Self.failure("cannot sync \(self.directory)/\(open.path)") }
    }

    private func syncDirectory(_ path: String) throws(Failure) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("cannot open \(path)") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Self.failure("cannot sync \(path)") }
    }

    /// The names in `path`, nil when it does not exist.
    private static func entries(_ path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names = [String]()
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
