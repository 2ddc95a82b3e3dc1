internal import Foundation
internal import Synchronization
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// A real `logbookd` process on a temporary socket and data directory.
final class Daemon {
    let directory: URL
    let socketPath: String
    let dataPath: String
    private(set) var process: Process?
    private(set) var stderrPath: String
    /// A command the daemon runs under, such as `ip netns exec NAME` (it must exec the
    /// daemon, so that a signal to the process reaches it); empty for none.
    var launcher: [String] = []

    /// Where `swift build` put the executables: next to the test bundle.
    static let binDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["LOGBOOK_BIN_DIR"] {
            return URL(fileURLWithPath: override)
        }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("logbookd").path) {
                return url
            }
        }
        return URL(fileURLWithPath: ".build/debug").absoluteURL
    }()

    /// With `LOGBOOK_TEST_STORE=postgres`, every daemon keeps its log in a database of its
    /// own in the test cluster instead of its data directory, so the suites that are not
    /// about one engine run against the PostgreSQL store too (`scripts/test.sh`).
    static let onPostgres = ProcessInfo.processInfo.environment["LOGBOOK_TEST_STORE"] == "postgres"

    /// The daemon's PostgreSQL database, when `onPostgres`: its own, dropped with it.
    private let database: SharedDatabase?
    /// The URL of that database, or of another daemon's it shares.
    private let storeURL: String?

    convenience init() throws {
        let database = Self.onPostgres ? try SharedDatabase() : nil
        try self.init(database: database, storeURL: database?.url)
    }

    /// With `onPostgres`, a daemon on the same database as `other` (which keeps it);
    /// otherwise one of its own.
    convenience init(sharingStoreOf other: Daemon) throws {
        try self.init(database: nil, storeURL: other.storeURL)
    }

    /// A daemon on the store at `url`, which the caller keeps.
    convenience init(storeURL url: String) throws {
        try self.init(database: nil, storeURL: url)
    }

    private init(database: SharedDatabase?, storeURL: String?) throws {
        self.database = database
        self.storeURL = storeURL
        // Unix socket paths are short (108 bytes): keep the directory near /tmp.
        let base = URL(fileURLWithPath: "/tmp").appendingPathComponent("lb-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        self.directory = base
        self.socketPath = base.appendingPathComponent("s.sock").path
        self.dataPath = base.appendingPathComponent("data").path
        self.stderrPath = base.appendingPathComponent("daemon.log").path
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // LOGBOOK_TEST_KEEP=1 keeps the directory, the daemon's log in it, to read after a failure.
        if ProcessInfo.processInfo.environment["LOGBOOK_TEST_KEEP"] == nil { try? FileManager.default.removeItem(at: self.directory) }
        database?.drop()
    }

    /// Starts the daemon and waits until its socket accepts connections.
    func start(_ extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let executable = Self.binDirectory.appendingPathComponent("logbookd")
        let arguments = ["--socket", self.socketPath, "--data", self.dataPath, "--log-level", "debug"]
            + (storeURL.map { ["--store", $0] } ?? []) + extraArguments
        if let command = self.launcher.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = self.launcher.dropFirst() + [executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        // A restart appends: the log keeps what the daemon said before it was stopped.
        if !FileManager.default.fileExists(atPath: self.stderrPath) {
            _ = FileManager.default.createFile(atPath: self.stderrPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.stderrPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if RawClient.canConnect(self.socketPath) { return }
            if !process.isRunning {
                throw DaemonError(message: "logbookd exited with \(process.terminationStatus): \(self.log)")
            }
            usleep(20_000)
        }
        throw DaemonError(message: "logbookd did not listen within 30 s: \(self.log)")
    }

    var log: String {
        (try? String(contentsOfFile: self.stderrPath, encoding: .utf8)) ?? ""
    }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    struct DaemonError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }
}

/// Runs the `logbook` CLI against a daemon.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var lines: [String] { self.stdout.split(separator: "\n").map(String.init) }

        /// Each stdout line parsed as a JSON object.
        func json() throws -> [[String: Any]] {
            try self.lines.map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
                return try #require(object as? [String: Any], "not a JSON object: \(line)")
            }
        }
    }

    let socketPath: String
    /// A command the CLI runs under, such as `setpriv --reuid …` (it must exec it); empty
    /// for none.
    var launcher: [String] = []
    var executable = Daemon.binDirectory.appendingPathComponent("logbook")

    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        if let command = self.launcher.first {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = self.launcher.dropFirst() + [self.executable.path] + arguments
        } else {
            process.executableURL = self.executable
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env["LOGBOOK_SOCKET"] = self.socketPath
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Feed stdin and drain stderr on their own threads while this one drains stdout: a
        // process blocked on any one full pipe would otherwise never exit.
        let feeding = DispatchGroup()
        DispatchQueue.global().async(group: feeding) {
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
        }
        let stderrData = Mutex(Data())
        DispatchQueue.global().async(group: feeding) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderrData.withLock { $0 = data }
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        feeding.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: stderrData.withLock { String(decoding: $0, as: UTF8.self) }
        )
    }
}
