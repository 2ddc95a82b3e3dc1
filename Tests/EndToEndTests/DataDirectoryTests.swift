internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// The data at rest is the daemon's alone: its directory and files are made for its user
/// only, and a directory others can enter is refused at start (`--allow-group-read` lets
/// the group read).
@Suite("The data directory is the daemon's alone", .enabled(if: !Daemon.onPostgres, "the PostgreSQL store keeps no data directory"), .blocksItsThread)
struct DataDirectoryTests {
    /// Every directory and file under `path`, with its permission bits.
    private static func modes(under path: String) throws -> [(String, UInt16)] {
        var found: [(String, UInt16)] = []
        let enumerator = try #require(FileManager.default.enumerator(atPath: path))
        for case let relative as String in enumerator {
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "/" + relative)
            found.append((relative, UInt16(truncating: try #require(attributes[.posixPermissions] as? NSNumber)) & 0o777))
        }
        let own = try FileManager.default.attributesOfItem(atPath: path)
        found.append((".", UInt16(truncating: try #require(own[.posixPermissions] as? NSNumber)) & 0o777))
        return found
    }

    /// A daemon that has written events, a group's progress and a view, then stopped, so
    /// every file the store makes exists.
    private static func populate(_ daemon: Daemon, _ arguments: [String] = []) throws {
        try daemon.start(arguments)
        let cli = CLI(socketPath: daemon.socketPath)
        #expect(try cli.run(["append", "order-1", "--type", "Placed", "--data", "{}"]).status == 0)
        #expect(try cli.run(["groups", "create", "g", "--all"]).status == 0)
        #expect(try cli.run(["views", "define", "v", "--group", "g"]).status == 0)
        daemon.stop()
    }

    @Test("a new data directory is 700 and every file in it 600")
    func newDirectoryIsPrivate() throws {
        let daemon = try Daemon()
        try Self.populate(daemon)
        let modes = try Self.modes(under: daemon.dataPath)
        #expect(modes.count > 3)
        for (path, mode) in modes {
            #expect(mode & 0o077 == 0, "\(path) has mode \(String(mode, radix: 8))")
        }
        // It starts again on it.
        try daemon.start()
        daemon.stop()
    }

    @Test("a data directory others can enter is refused, saying how to fix it")
    func openDirectoryIsRefused() throws {
        for (mode, says) in [(0o755 as Int16, "every user of the host"), (0o750, "its group"), (0o711, "every user of the host")] {
            let daemon = try Daemon()
            try FileManager.default.createDirectory(atPath: daemon.dataPath, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: daemon.dataPath)
            #expect(throws: Daemon.DaemonError.self) { try daemon.start() }
            #expect(daemon.log.contains("has mode \(String(mode, radix: 8))"), "\(daemon.log)")
            #expect(daemon.log.contains(says))
            #expect(daemon.log.contains("chmod 700"))
            // Nothing was written into it.
            #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.dataPath).isEmpty)
        }
    }

    @Test("with --allow-group-read, the group may read (750, files 640) but never write, and others never enter")
    func groupRead() throws {
        let daemon = try Daemon()
        try Self.populate(daemon, ["--allow-group-read"])
        for (path, mode) in try Self.modes(under: daemon.dataPath) {
            #expect(mode & 0o027 == 0, "\(path) has mode \(String(mode, radix: 8))")
        }
        for mode: Int16 in [0o770, 0o754] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: daemon.dataPath)
            #expect(throws: Daemon.DaemonError.self) { try daemon.start(["--allow-group-read"]) }
            #expect(daemon.log.contains("chmod 750"))
        }
    }
}
