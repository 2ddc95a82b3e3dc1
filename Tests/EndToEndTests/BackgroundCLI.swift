internal import Foundation

#if canImport(Glibc)
internal import Glibc
#endif

/// A `logbook` process left running while the test does something else; ``finish()``
/// waits for its end.
final class BackgroundCLI {
    private let process = Process()
    private let out = Pipe()
    private let err = Pipe()

    init(_ arguments: [String]) throws {
        self.process.executableURL = Daemon.binDirectory.appendingPathComponent("logbook")
        self.process.arguments = arguments
        self.process.standardOutput = self.out
        self.process.standardError = self.err
        self.process.standardInput = FileHandle.nullDevice
        try self.process.run()
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    /// Waits until the process ends and returns what it printed. Its output is a line or
    /// two, which the pipes hold until then.
    func finish() -> CLI.Result {
        self.process.waitUntilExit()
        return CLI.Result(
            status: self.process.terminationStatus,
            stdout: String(decoding: self.out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: self.err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }
}
