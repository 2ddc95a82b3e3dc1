internal import Foundation
internal import Testing

#if canImport(Glibc)
internal import Glibc
#endif

/// `logbookd` on a `Daemon`'s socket and data directory, for the starts `Daemon.start`
/// does not cover: with an environment of its own (an `LD_PRELOAD` shim), or one that is
/// expected to be refused.
final class DaemonProcess {
    let process: Process
    let logPath: String

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    /// Starts logbookd with `environment` added to the test's and waits until its socket
    /// accepts connections.
    static func start(_ daemon: Daemon, _ arguments: [String], environment: [String: String]) throws -> DaemonProcess {
        let logPath = daemon.directory.appendingPathComponent("process.log").path
        let process = try Self.launch(daemon, arguments, environment: environment, logPath: logPath)
        let started = DaemonProcess(process: process, logPath: logPath)
        let listening = eventuallyBlocking(seconds: 30) {
            RawClient.canConnect(daemon.socketPath) || !process.isRunning
        }
        guard listening, process.isRunning else {
            throw Daemon.DaemonError(message: "logbookd did not start: \(started.log)")
        }
        return started
    }

    /// Starts logbookd and returns at once, before it has opened anything (a test that
    /// kills it at a random moment of its start uses this).
    static func spawn(_ daemon: Daemon, _ arguments: [String]) throws -> DaemonProcess {
        let logPath = daemon.directory.appendingPathComponent("spawned.log").path
        return DaemonProcess(process: try Self.launch(daemon, arguments, environment: [:], logPath: logPath), logPath: logPath)
    }

    /// How a start that should be refused ended.
    enum Outcome {
        case refused(status: Int32, output: String)
        /// It listened after all; still running.
        case started(DaemonProcess)
    }

    /// Runs logbookd where it should refuse to start: waits until it exits or listens.
    static func startOrRefusal(_ daemon: Daemon, _ arguments: [String]) throws -> Outcome {
        let logPath = daemon.directory.appendingPathComponent("refused.log").path
        let process = try Self.launch(daemon, arguments, environment: [:], logPath: logPath)
        let ended = eventuallyBlocking(seconds: 60) { !process.isRunning || RawClient.canConnect(daemon.socketPath) }
        if process.isRunning {
            let started = DaemonProcess(process: process, logPath: logPath)
            guard ended else {
                throw Daemon.DaemonError(message: "logbookd neither listened nor exited in 60 s: \(started.log)")
            }
            return .started(started)
        }
        return .refused(status: process.terminationStatus, output: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    /// The same where a start is a failure: returns the exit status and what logbookd
    /// wrote, or records an issue (and kills it) when it listened.
    static func refusal(_ daemon: Daemon, _ arguments: [String]) throws -> (status: Int32, output: String) {
        switch try Self.startOrRefusal(daemon, arguments) {
        case .refused(let status, let output):
            return (status, output)
        case .started(let started):
            started.stop(signal: SIGKILL)
            Issue.record("logbookd started and listened: it should have refused")
            return (-1, started.log)
        }
    }

    var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    /// Sends SIGTERM and waits up to `seconds` for the process to exit: its exit status,
    /// or nil when it hung (then it is killed).
    func terminate(within seconds: Double) -> Int32? {
        kill(self.process.processIdentifier, SIGTERM)
        guard eventuallyBlocking(seconds: seconds, { !self.process.isRunning }) else {
            self.stop(signal: SIGKILL)
            return nil
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32) -> Int32 {
        kill(self.process.processIdentifier, signal)
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    private static func launch(_ daemon: Daemon, _ arguments: [String], environment: [String: String], logPath: String) throws -> Process {
        let process = Process()
        process.executableURL = Daemon.binDirectory.appendingPathComponent("logbookd")
        process.arguments = ["--socket", daemon.socketPath, "--data", daemon.dataPath, "--log-level", "debug"] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        return process
    }
}
