internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// Running under systemd (issue 15): logbookd speaks the notify protocol to a fake
/// `$NOTIFY_SOCKET` as systemd would hear it, and the unit in Packaging/ passes
/// `systemd-analyze verify` where systemd is installed.
@Suite("Running under systemd", .serialized)
struct SystemdTests {
    /// A Unix datagram socket standing in for systemd's notify socket.
    final class FakeNotifySocket {
        let descriptor: Int32
        /// What `$NOTIFY_SOCKET` says: the path, or `@name` in the abstract namespace.
        let address: String

        init(abstract: Bool) throws {
            let name = abstract ? "@logbook-test-\(UUID().uuidString.prefix(8))" : "/tmp/lb-notify-\(UUID().uuidString.prefix(8))"
            self.address = name
            self.descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var bytes = Array(name.utf8)
            if abstract { bytes[0] = 0 }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.descriptor, $0, length) }
            }
            guard self.descriptor >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }

        deinit {
            close(self.descriptor)
            if self.address.hasPrefix("/") { unlink(self.address) }
        }

        /// The next message, as `KEY=VALUE` pairs; nil after `seconds` without one.
        func receive(within seconds: Int = 30) -> [String: String]? {
            var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(seconds * 1000)) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(self.descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            return Dictionary(
                String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").compactMap { line in
                    line.firstIndex(of: "=").map { (String(line[..<$0]), String(line[line.index(after: $0)...])) }
                },
                uniquingKeysWith: { $1 })
        }
    }

    @Test("READY=1 once the socket serves, STOPPING=1 at SIGTERM", arguments: [false, true])
    func notifyProtocol(abstract: Bool) throws {
        let systemd = try FakeNotifySocket(abstract: abstract)
        let daemon = try Daemon()
        try daemon.start(environment: ["NOTIFY_SOCKET": systemd.address])
        let ready = try #require(systemd.receive(), "no READY=1: \(daemon.log)")
        #expect(ready["READY"] == "1")
        #expect(ready["MAINPID"] == daemon.process.map { "\($0.processIdentifier)" })
        #expect(ready["STATUS"]?.contains(daemon.socketPath) == true)
        #expect(RawClient.canConnect(daemon.socketPath), "ready means serving")

        let status = daemon.stop(signal: SIGTERM)
        let stopping = try #require(systemd.receive(within: 5), "no STOPPING=1: \(daemon.log)")
        #expect(stopping["STOPPING"] == "1")
        #expect(status == 0, "\(daemon.log)")
    }

    @Test("the unit in Packaging/ passes systemd-analyze verify, and its sysusers file parses")
    func unitVerifies() throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else { return }  // systemd is not installed here
        let packaging = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Packaging").standardizedFileURL
        let unit = try String(contentsOf: packaging.appendingPathComponent("logbookd.service"), encoding: .utf8)
        #expect(unit.contains("Type=notify"))
        // verify checks that ExecStart can run: point it at the binary under test.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lb-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("logbookd.service")
        let daemonPath = Daemon.binDirectory.appendingPathComponent("logbookd").path
        try unit.replacingOccurrences(of: "/usr/local/bin/logbookd", with: daemonPath).write(to: copy, atomically: true, encoding: .utf8)

        let verified = try Self.run(analyze, ["verify", copy.path])
        #expect(verified.status == 0, "\(verified.output)")
        // verify only warns about a line it cannot parse: a warning is a failure here.
        #expect(verified.output.isEmpty, "\(verified.output)")

        let sysusers = try Self.run("/usr/bin/systemd-sysusers", ["--dry-run", packaging.appendingPathComponent("logbook.sysusers").path])
        #expect(sysusers.status == 0, "\(sysusers.output)")
        #expect(!sysusers.output.contains("ignoring"), "\(sysusers.output)")
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
