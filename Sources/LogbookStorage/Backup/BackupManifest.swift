internal import Foundation

/// `manifest.json` in a backup directory: what the backup holds and how to check it.
///
/// `logbook backup` writes it last, after every file is on disk, so a directory without
/// one is a backup that did not finish.
package struct BackupManifest: Codable, Equatable, Sendable {
    package static let fileName = "manifest.json"
    /// The layout of a backup directory this build writes and reads.
    package static let currentFormat = 1

    package struct File: Codable, Equatable, Sendable {
        /// Inside the backup: `logbook.sqlite`, `log/<first position>.seg`.
        package var path: String
        package var bytes: Int64
        /// CRC32C (Castagnoli) of the file's bytes.
        package var crc32c: UInt32
        /// The size a restore gives the file (a log segment is preallocated); nil: `bytes`.
        package var restoredBytes: Int64?

        package init(path: String, bytes: Int64, crc32c: UInt32, restoredBytes: Int64?) {
            self.path = path
            self.bytes = bytes
            self.crc32c = crc32c
            self.restoredBytes = restoredBytes
        }

        enum CodingKeys: String, CodingKey {
            case path, bytes, crc32c
            case restoredBytes = "restored_bytes"
        }
    }

    package var format: Int
    /// Every event up to here is in the backup, and none after it.
    package var position: UInt64
    /// `log` or `sqlite`.
    package var engine: String
    package var schemaVersion: Int
    package var serverVersion: String
    /// When the daemon took the snapshot, RFC 3339.
    package var created: String
    package var files: [File]

    package init(position: UInt64, engine: String, schemaVersion: Int, serverVersion: String, created: String, files: [File]) {
        self.format = Self.currentFormat
        self.position = position
        self.engine = engine
        self.schemaVersion = schemaVersion
        self.serverVersion = serverVersion
        self.created = created
        self.files = files
    }

    enum CodingKeys: String, CodingKey {
        case format, position, engine, files, created
        case schemaVersion = "schema_version"
        case serverVersion = "server_version"
    }

    /// Reads `manifest.json` in `directory`.
    package static func read(from directory: String) throws(StorageError) -> BackupManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidArgument("\(directory) is not a whole backup: it has no \(fileName) (a backup that did not finish has none)")
        }
        let manifest: BackupManifest
        do {
            manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
        } catch {
            throw .invalidArgument("\(path) is not a backup manifest: \(error)")
        }
        guard manifest.format <= currentFormat else {
            throw StorageError(
                code: .unsupportedSchema,
                message: "\(path) has format \(manifest.format); this Logbook reads backups up to format \(currentFormat)")
        }
        return manifest
    }

    /// The manifest as written: pretty, keys sorted, ending with a newline.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Whether `path` is one a backup may hold: the database, or a segment by its name.
    /// Anything else (`..`, an absolute path) is refused before a byte is written.
    package static func isAllowed(_ path: String) -> Bool {
        if path == Schema.fileName { return true }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0] == StorageEngine.logFolder
            && SegmentFile.firstPosition(fromName: String(parts[1]), suffix: "seg") != nil
    }
}
