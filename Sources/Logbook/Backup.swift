#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
internal import LogbookWire

/// What a backup sends, in order: the chunks of each file, then one manifest.
public enum BackupPart: Sendable, Hashable {
    /// Bytes of a file at `offset`. A file's chunks come in order from offset 0, before
    /// the next file's.
    case chunk(path: String, offset: UInt64, bytes: [UInt8])
    /// The last part: what the files hold.
    case manifest(BackupManifest)
}

/// What a backup holds: every event up to ``position``, and the groups and views as of it
/// or earlier.
public struct BackupManifest: Sendable, Hashable {
    public struct File: Sendable, Hashable {
        /// The file's path inside the backup: `logbook.sqlite`, `log/00000000000000000001.seg`.
        public var path: String
        public var bytes: UInt64
        /// CRC32C (Castagnoli) of the file's bytes, as the daemon read them.
        public var crc32c: UInt32
        /// The size a restore gives the file (a log segment is preallocated); nil: ``bytes``.
        public var restoredBytes: UInt64?
    }

    /// Every event up to here is in the backup, and none after it.
    public var position: UInt64
    /// The daemon's storage engine: `log` or `sqlite`.
    public var engine: String
    public var schemaVersion: Int
    public var serverVersion: String
    /// When the daemon took the snapshot.
    public var created: Date
    public var files: [File]

    init(wire: LogbookWire.BackupManifest) {
        self.position = wire.position
        self.engine = wire.engine
        self.schemaVersion = Int(wire.schemaVersion)
        self.serverVersion = wire.serverVersion
        self.created = Date(unixMicros: wire.createdUnixMicros)
        self.files = wire.files.map {
            File(path: $0.path, bytes: $0.bytes, crc32c: $0.crc32c, restoredBytes: $0.restoredBytes == 0 ? nil : $0.restoredBytes)
        }
    }
}
