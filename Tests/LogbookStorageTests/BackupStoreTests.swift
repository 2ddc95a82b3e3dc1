internal import Foundation
@testable internal import LogbookStorage
internal import Synchronization
internal import Testing

/// A store's snapshot while appends go on, written out as `logbook backup` writes it,
/// verified and restored: the restored store holds exactly the events up to the
/// snapshot's position, and the group progress the snapshot saw.
@Suite struct BackupStoreTests {
    private final class Stop: Sendable {
        let value = Atomic(false)
    }

    /// Events of 2 KB each: a few hundred fill a 1 MiB segment.
    private static func largeEvents(_ count: Int) -> [ProposedEvent] {
        (0..<count).map { Make.event("Large", data: #"{"pad":""# + String(repeating: "x", count: 2000) + #"","n":\#($0)}"#) }
    }

    /// Writes every file of `snapshot` into `directory` with its manifest, as the CLI does.
    private static func write(_ snapshot: StoreSnapshot, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory + "/log", withIntermediateDirectories: true)
        var files = [BackupManifest.File]()
        for file in snapshot.files {
            var bytes = [UInt8](repeating: 0, count: Int(file.bytes))
            var offset = 0
            while offset < bytes.count {
                let count = try bytes[offset...].withUnsafeMutableBytes { buffer in
                    try snapshot.read(file, at: Int64(offset), into: UnsafeMutableRawBufferPointer(
                        rebasing: buffer[..<min(buffer.count, StorageLimits.backupChunkBytes)]))
                }
                #expect(count > 0)
                offset += count
            }
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + file.path))
            files.append(.init(path: file.path, bytes: file.bytes, crc32c: CRC32C.checksum(bytes), restoredBytes: file.restoredBytes))
        }
        let manifest = BackupManifest(
            position: snapshot.position, engine: snapshot.engine.rawValue, schemaVersion: snapshot.schemaVersion,
            serverVersion: "test", created: "2026-12-07T00:00:00Z", files: files)
        try Data(try manifest.encoded()).write(to: URL(fileURLWithPath: directory + "/" + BackupManifest.fileName))
    }

    @Test func aSnapshotTakenWhileAppendsGoOnRestoresExactlyUpToItsPosition() async throws {
        try await StoreFixture.with { fixture in
            let store = try EventStore(
                directory: fixture.directory, sync: .normal, logger: StoreFixture.logger, engine: StoreFixture.engine,
                logSegmentBytes: 1 << 20)
            _ = try await store.createGroup(.fixture("g"))
            for index in 0..<300 {
                _ = try await store.append([Make.write("s-\(index % 17)", .any, Self.largeEvents(5))])
            }
            try await store.saveGroupProgress("g", checkpoint: 700, settled: [702, 705], parked: [], unparked: [])
            let stop = Stop()
            let appenders = Task { [store] in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            var index = 0
                            while !stop.value.load(ordering: .relaxed) {
                                _ = try await store.append([Make.write("t\(task)-\(index % 5)", .any, Make.events(3))])
                                index += 1
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .milliseconds(100))
            let snapshot = try store.snapshot()
            #expect(snapshot.position >= 1500)
            #expect(snapshot.engine == StoreFixture.engine)
            #expect(snapshot.schemaVersion == Schema.version)
            let backup = fixture.directory + "-backup"
            defer { try? FileManager.default.removeItem(atPath: backup) }
            try Self.write(snapshot, to: backup)
            try await Task.sleep(for: .milliseconds(100))
            stop.value.store(true, ordering: .relaxed)
            try await appenders.value
            #expect(store.headPosition > snapshot.position, "appends went on past the snapshot")
            let original = try Make.readAll(store).filter { $0.position <= snapshot.position }
            await store.close()
            // The copy the snapshot made is gone from the data directory.
            #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory).allSatisfy { !$0.hasPrefix(".backup-") })

            let report = try BackupVerifier.verify(directory: backup)
            #expect(report.manifest.position == snapshot.position)
            if StoreFixture.engine == .log {
                #expect(report.recordsChecked == snapshot.position)
                #expect(snapshot.files.count > 2, "sealed segments and the active one")
            }
            let target = fixture.directory + "-restored"
            defer { try? FileManager.default.removeItem(atPath: target) }
            _ = try await BackupRestore.restore(from: backup, to: target, logger: StoreFixture.logger)
            let restored = try EventStore(directory: target, sync: .normal, logger: StoreFixture.logger)
            #expect(restored.engine == StoreFixture.engine)
            #expect(restored.headPosition == snapshot.position)
            #expect(try Make.readAll(restored) == original)
            let group = try #require(try restored.group("g"))
            #expect(group.checkpoint == 700)
            // Appends continue after the backup's position.
            let next = try await restored.append([Make.write("after", .noStream, Make.events(1))])
            #expect(next.streams[0].positions == [snapshot.position + 1])
            await restored.close()
        }
    }

    @Test func anEmptyStoreBacksUpAndRestores() async throws {
        try await StoreFixture.with { fixture in
            let store = try fixture.open()
            let snapshot = try store.snapshot()
            await store.close()
            #expect(snapshot.position == 0)
            let backup = fixture.directory + "-backup"
            let target = fixture.directory + "-restored"
            defer {
                try? FileManager.default.removeItem(atPath: backup)
                try? FileManager.default.removeItem(atPath: target)
            }
            try Self.write(snapshot, to: backup)
            _ = try await BackupRestore.restore(from: backup, to: target, logger: StoreFixture.logger)
            let restored = try EventStore(directory: target, sync: .normal, logger: StoreFixture.logger)
            #expect(restored.engine == StoreFixture.engine)
            #expect(restored.headPosition == 0)
            await restored.close()
        }
    }

    @Test func aCopyLeftByADaemonThatDiedIsRemovedAtTheNextOpen() async throws {
        try await StoreFixture.with { fixture in
            try await fixture.open().close()
            let leftover = fixture.directory + "/" + EventStore.snapshotFilePrefix + "dead.sqlite"
            #expect(FileManager.default.createFile(atPath: leftover, contents: Data(count: 4096)))
            try await fixture.open().close()
            #expect(!FileManager.default.fileExists(atPath: leftover))
        }
    }
}
