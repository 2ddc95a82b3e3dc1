internal import Foundation
internal import Logging
internal import LogbookStorage
internal import LogbookWire
internal import NIOPosix

extension CallRunner {
    /// Backup: a snapshot of the store (`StoreSnapshot`), sent file by file in
    /// BackupChunk frames, one per credit the client grants, then the BackupManifest with
    /// each file's CRC32C. A client that stops taking chunks holds only this call.
    func backup(credit: CreditGate) async throws {
        let threadPool = self.context.threadPool
        let snapshot = try await self.context.store.backupSnapshot(on: threadPool)
        let chunkBytes = min(StorageLimits.backupChunkBytes, self.context.limits.frameBytesMax - Self.chunkOverheadBytes)
        self.logger.info("backup", metadata: [
            "position": "\(snapshot.position)", "files": "\(snapshot.files.count)",
            "bytes": "\(snapshot.files.reduce(0) { $0 + $1.bytes })",
        ])
        var files = [LogbookWire.BackupFile]()
        for file in snapshot.files {
            var crc: UInt32 = 0
            var sent: Int64 = 0
            repeat {
                _ = try await credit.available()
                let offset = sent
                let chunk = try await threadPool.runIfActive {
                    var chunk = [UInt8](repeating: 0, count: Int(min(Int64(chunkBytes), file.bytes - offset)))
                    _ = try chunk.withUnsafeMutableBytes { try snapshot.read(file, at: offset, into: $0) }
                    return chunk
                }
                crc = CRC32C.checksum(chunk, extending: crc)
                credit.spend(1)
                try await self.write(.backupChunk(BackupChunk(path: file.path, offset: UInt64(offset), data: chunk)))
                sent = offset + Int64(chunk.count)
            } while sent < file.bytes
            files.append(BackupFile(
                path: file.path, bytes: UInt64(file.bytes), crc32c: crc, restoredBytes: UInt64(file.restoredBytes ?? 0)))
        }
        try await self.write(.backupManifest(LogbookWire.BackupManifest(
            position: snapshot.position, engine: snapshot.engine.rawValue, schemaVersion: UInt32(snapshot.schemaVersion),
            serverVersion: ServerVersion.server, createdUnixMicros: Int64(Date().timeIntervalSince1970 * 1_000_000),
            files: files)))
    }

    /// A BackupChunk's frame beside its data: the path, the offset, the field tags.
    private static let chunkOverheadBytes = 4096
}
