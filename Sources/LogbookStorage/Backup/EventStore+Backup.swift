internal import Foundation
internal import GRDB
internal import SystemPackage

extension EventStore {
    /// The prefix of the database copies a backup makes in the data directory; one left
    /// by a daemon that died during its `VACUUM INTO` is removed at the next open.
    static let snapshotFilePrefix = ".backup-"

    /// Takes a consistent copy of the store at one position (see `StoreSnapshot`), while
    /// appends go on. Costs a copy of the database file in the data directory while it is
    /// being made (unlinked at once, freed when the snapshot is released); a full disk
    /// fails it with `.diskFull` and nothing else.
    package func snapshot() throws(StorageError) -> StoreSnapshot {
        try checkOpen()
        let directory = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        let copy = directory + "/" + Self.snapshotFilePrefix + UUID().uuidString + ".sqlite"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let database: (headPosition: UInt64, schemaVersion: Int)
        do {
            // Outside a transaction, as VACUUM needs; it reads in one snapshot of its own.
            try pool.unsafeRead { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy]) }
            database = try Self.inspectCopy(copy)
        } catch let error as DatabaseError {
            if SQLiteFailure(error) == .diskFull {
                throw StorageError(code: .diskFull, message: "no space in \(directory) for the backup's copy of the database", cause: error)
            }
            throw StorageError(code: .internalError, message: "cannot copy the database for a backup: \(error)", cause: error)
        } catch {
            throw StorageError(code: .internalError, message: "cannot copy the database for a backup: \(error)", cause: error)
        }
        // The log's head after the copy: nothing in the copy refers past it.
        let position = log?.headPosition ?? database.headPosition
        let segments = try log?.extents(upTo: position) ?? []
        let descriptor: FileDescriptor
        let bytes: Int64
        do {
            descriptor = try FileDescriptor.open(copy, .readOnly, options: [.closeOnExec])
            bytes = try descriptor.seek(offset: 0, from: .end)
        } catch {
            throw StorageError(code: .internalError, message: "cannot open the backup's copy of the database: \(error)", cause: error)
        }
        return StoreSnapshot(
            position: position, engine: engine, schemaVersion: database.schemaVersion, database: descriptor,
            databaseBytes: bytes, segments: segments)
    }

    /// The head the copy holds and its schema version.
    private static func inspectCopy(_ path: String) throws -> (headPosition: UInt64, schemaVersion: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "logbook.backup"
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            let head = try Int64.fetchOne(db, sql: Schema.SQL.loadHead) ?? 0
            return (try WriterState.checkedUnsigned(head, what: "position"), version)
        }
    }

    /// Removes the database copies of backups a daemon did not live to finish.
    static func removeSnapshotLeftovers(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(snapshotFilePrefix) {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}
